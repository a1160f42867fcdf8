// tr46 7 ships no types; this covers the two functions @rcpt/smtp calls (see node_modules/tr46/index.js).
declare module "tr46" {
  export interface Options {
    readonly checkBidi?: boolean
    readonly checkHyphens?: boolean
    readonly checkJoiners?: boolean
    readonly useSTD3ASCIIRules?: boolean
    readonly transitionalProcessing?: boolean
    readonly ignoreInvalidPunycode?: boolean
  }

  export interface ToASCIIOptions extends Options {
    readonly verifyDNSLength?: boolean
  }

  /** The A-label form, or `null` when UTS #46 processing reports an error. */
  export function toASCII(domainName: string, options?: ToASCIIOptions): string | null

  export function toUnicode(domainName: string, options?: Options): { readonly domain: string; readonly error: boolean }
}
