/**
 * The mail world's TLS identity: a self-signed P-256 certificate (valid until 2126) and its private key. Test use
 * only: the key is public. Its subjectAltName lists the demo world's MX host names and 127.0.0.1-127.0.0.8, so a
 * client that pins {@link certificate} as its only CA can verify a demo host by name. Regenerate with
 * `test/fixtures/make-certificate.sh`.
 *
 * @since 0.1.0
 */

/**
 * PEM certificate, self-signed.
 *
 * @category tls
 * @since 0.1.0
 */
export const certificate = `-----BEGIN CERTIFICATE-----
MIICljCCAjugAwIBAgIUaXa4lS+iNmJ1U7uHDQkq7Kk79lYwCgYIKoZIzj0EAwIw
JjEkMCIGA1UEAwwbcmNwdCBtYWlsIHdvcmxkICh0ZXN0IG9ubHkpMCAXDTI2MTEy
MjE2NTkzNloYDzIxMjYxMDI5MTY1OTM2WjAmMSQwIgYDVQQDDBtyY3B0IG1haWwg
d29ybGQgKHRlc3Qgb25seSkwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAR3tatm
ck3qzwtooRaG1D52yUrXCv3S4LqXD+JiJYhbN5wcqNxCUQS+/p4pxshjo24XStIi
h8AUNLD7St5vnw8to4IBQzCCAT8wHQYDVR0OBBYEFDnvqvikVmczYwyROgdb5vUl
HCMZMB8GA1UdIwQYMBaAFDnvqvikVmczYwyROgdb5vUlHCMZMIHJBgNVHREEgcEw
gb6CCWxvY2FsaG9zdIIObXgxLmFscGhhLnRlc3SCEG14LmNhdGNoYWxsLnRlc3SC
EG14LmdyZXlsaXN0LnRlc3SCDWltcGxpY2l0LnRlc3SCEW14MS5mYWlsb3Zlci50
ZXN0gg9teC50bHNvbmx5LnRlc3SCDG14LnZyZnkudGVzdIIMKi5hbHBoYS50ZXN0
hwR/AAABhwR/AAAChwR/AAADhwR/AAAEhwR/AAAFhwR/AAAGhwR/AAAHhwR/AAAI
MAwGA1UdEwEB/wQCMAAwDgYDVR0PAQH/BAQDAgeAMBMGA1UdJQQMMAoGCCsGAQUF
BwMBMAoGCCqGSM49BAMCA0kAMEYCIQD0DGpTViujRSKJ7komyqG7ZzhG+bVlw0eF
c3+KAcUzggIhALHh47GBOEhy4H1HyqAehNZ5JeENLqNG0vocPmMQMpjr
-----END CERTIFICATE-----
`

/**
 * PEM private key of {@link certificate} (PKCS#8, P-256).
 *
 * @category tls
 * @since 0.1.0
 */
export const privateKey = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgk56RxdhrDw0ALvzS
FTr5OP7Tdt5zqFUHPjLMNP/VoSihRANCAAR3tatmck3qzwtooRaG1D52yUrXCv3S
4LqXD+JiJYhbN5wcqNxCUQS+/p4pxshjo24XStIih8AUNLD7St5vnw8t
-----END PRIVATE KEY-----
`
