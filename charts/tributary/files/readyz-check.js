// The `helm test` check (templates/tests/readyz.yaml), run as `node -e <this> URL SECONDS`:
// GET URL until it answers 2xx (exit 0) or SECONDS have passed (exit 1), printing each answer.
/* global process, console, fetch, AbortSignal, setTimeout */
const [url, seconds = '60'] = process.argv.slice(1);
const deadline = Date.now() + Number(seconds) * 1000;
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
for (;;) {
  const answer = await fetch(url, { signal: AbortSignal.timeout(5000) }).then(
    async (response) => ({ ok: response.ok, text: `${response.status} ${await response.text()}` }),
    (error) => ({ ok: false, text: String(error.cause?.code ?? error.message) }),
  );
  console.log(`GET ${url}: ${answer.text.trim()}`);
  if (answer.ok) process.exit(0);
  if (Date.now() >= deadline) process.exit(1);
  await pause(2000);
}
