// The rcpt web page: uploads a list to POST /v1/jobs, lists the jobs, follows their progress
// (polling GET /v1/jobs once a second while any job runs), draws the verdicts, downloads the
// results and cancels. Plain JavaScript, no build step; it uses only the public jobs API.
"use strict"

const verdicts = ["deliverable", "undeliverable", "risky", "unknown"]
const $ = (selector) => document.querySelector(selector)
const state = { jobs: [], selected: null, timer: null }

const tokenInput = $("#token")
tokenInput.value = localStorage.getItem("rcpt-token") ?? ""
tokenInput.addEventListener("change", () => {
  localStorage.setItem("rcpt-token", tokenInput.value)
  refresh()
})

// x-requested-with: a header no cross-origin "simple" request carries, so the server takes this
// page's uploads (text, CSV, multipart) without a token on an open loopback service.
const headers = (extra = {}) => {
  const token = tokenInput.value.trim()
  const own = { ...extra, "x-requested-with": "rcpt-page" }
  return token === "" ? own : { ...own, authorization: `Bearer ${token}` }
}

const say = (text) => {
  $("#status").textContent = text
}

const problem = async (response) => {
  try {
    const body = await response.json()
    return body.detail ?? body.title ?? `HTTP ${response.status}`
  } catch {
    return `HTTP ${response.status}`
  }
}

const typeOf = (file) => {
  const name = file.name.toLowerCase()
  if (name.endsWith(".csv")) return "text/csv"
  if (name.endsWith(".ndjson") || name.endsWith(".jsonl")) return "application/x-ndjson"
  if (name.endsWith(".json")) return "application/json"
  return "text/plain"
}

const upload = async (file) => {
  const column = $("#column").value.trim()
  const query = column === "" ? "" : `?column=${encodeURIComponent(column)}`
  say(`Uploading ${file.name}…`)
  const response = await fetch(`/v1/jobs${query}`, {
    method: "POST",
    body: file,
    headers: headers({ "content-type": typeOf(file) })
  })
  if (response.status !== 202) {
    say(`Upload refused: ${await problem(response)}`)
    return
  }
  const job = await response.json()
  say(`Job ${job.id.slice(0, 8)} queued: ${job.total} addresses.`)
  state.selected = job.id
  await refresh()
}

const duration = (seconds) => {
  if (seconds === null || seconds === undefined) return "–"
  if (seconds < 60) return `${seconds} s`
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`
  return `${(seconds / 3600).toFixed(1)} h`
}

const over = (job) => job.state === "done" || job.state === "cancelled" || job.state === "failed"

const download = async (job, format) => {
  const response = await fetch(`/v1/jobs/${job.id}/results?format=${format}`, { headers: headers() })
  if (!response.ok) {
    say(`Download failed: ${await problem(response)}`)
    return
  }
  const url = URL.createObjectURL(await response.blob())
  const link = document.createElement("a")
  link.href = url
  link.download = `rcpt-${job.id}.${format}`
  document.body.append(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

const cancel = async (job) => {
  const response = await fetch(`/v1/jobs/${job.id}`, { method: "DELETE", headers: headers() })
  say(
    response.ok
      ? `Job ${job.id.slice(0, 8)} cancelled; its results so far are kept.`
      : `Cancel failed: ${await problem(response)}`
  )
  await refresh()
}

const button = (text, label, onClick, secondary = true) => {
  const b = document.createElement("button")
  b.type = "button"
  b.textContent = text
  b.setAttribute("aria-label", label)
  if (secondary) b.className = "secondary"
  b.addEventListener("click", onClick)
  return b
}

const renderJobs = () => {
  const body = $("#jobs tbody")
  body.replaceChildren()
  $("#empty").hidden = state.jobs.length > 0
  for (const job of state.jobs) {
    const row = document.createElement("tr")
    row.dataset.job = job.id
    row.dataset.state = job.state
    const short = job.id.slice(0, 8)
    const cells = [short, job.state, null, `${job.rate}/s`, over(job) ? "–" : duration(job.etaSeconds), null]
    cells.forEach((text, i) => {
      const cell = document.createElement(i === 0 ? "th" : "td")
      if (i === 0) cell.scope = "row"
      if (text !== null) cell.textContent = text
      if (i === 1) cell.className = `state-${job.state}`
      row.append(cell)
    })
    const bar = document.createElement("progress")
    bar.max = Math.max(1, job.total)
    bar.value = job.done
    bar.setAttribute("aria-label", `Job ${short}: ${job.done} of ${job.total} verified`)
    row.children[2].append(bar, ` ${job.done} / ${job.total}`)
    const actions = row.children[5]
    actions.className = "actions"
    actions.append(
      button("Show", `Show job ${short}`, () => {
        state.selected = job.id
        renderDetail()
      }),
      button("CSV", `Download the results of job ${short} as CSV`, () => download(job, "csv")),
      button("JSONL", `Download the results of job ${short} as JSON lines`, () => download(job, "jsonl"))
    )
    if (!over(job)) actions.append(button("Cancel", `Cancel job ${short}`, () => cancel(job)))
    body.append(row)
  }
}

const renderDetail = () => {
  const job = state.jobs.find((j) => j.id === state.selected)
  const section = $("#detail")
  if (job === undefined) {
    section.hidden = true
    return
  }
  section.hidden = false
  $("#detail-title").textContent = `Job ${job.id.slice(0, 8)}: ${job.state}, ${job.done} of ${job.total}`
  const chart = $("#chart")
  chart.replaceChildren()
  const total = Math.max(1, job.done)
  const words = []
  const rows = $("#counts tbody")
  rows.replaceChildren()
  for (const verdict of verdicts) {
    const n = job.counts[verdict]
    const share = Math.round((n / total) * 1000) / 10
    const part = document.createElement("span")
    part.className = `v-${verdict}`
    part.style.width = `${(n / total) * 100}%`
    chart.append(part)
    words.push(`${verdict} ${n}`)
    const row = document.createElement("tr")
    row.dataset.verdict = verdict
    const name = document.createElement("th")
    name.scope = "row"
    const swatch = document.createElement("span")
    swatch.className = `swatch v-${verdict}`
    name.append(swatch, verdict)
    const count = document.createElement("td")
    count.textContent = String(n)
    const pct = document.createElement("td")
    pct.textContent = `${share}%`
    row.append(name, count, pct)
    rows.append(row)
  }
  chart.setAttribute("aria-label", `Verdicts so far: ${words.join(", ")}`)
}

const refresh = async () => {
  const response = await fetch("/v1/jobs", { headers: headers() })
  if (!response.ok) {
    say(
      response.status === 401
        ? "This server needs a token: enter it above."
        : `Cannot list jobs: ${await problem(response)}`
    )
    return
  }
  state.jobs = (await response.json()).jobs
  if (state.selected === null && state.jobs.length > 0) state.selected = state.jobs[0].id
  renderJobs()
  renderDetail()
  clearTimeout(state.timer)
  if (state.jobs.some((j) => !over(j))) state.timer = setTimeout(refresh, 1000)
}

$("#upload").addEventListener("submit", (event) => {
  event.preventDefault()
  const file = $("#file").files[0]
  if (file !== undefined) upload(file)
})

const drop = $("#drop")
drop.addEventListener("dragover", (event) => {
  event.preventDefault()
  drop.classList.add("over")
})
drop.addEventListener("dragleave", () => drop.classList.remove("over"))
drop.addEventListener("drop", (event) => {
  event.preventDefault()
  drop.classList.remove("over")
  const file = event.dataTransfer.files[0]
  if (file !== undefined) upload(file)
})

refresh()
