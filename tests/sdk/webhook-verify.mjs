// Verifies one captured webhook with the official seven.io SDK's WebhookVerifier
// (@seven.io/client 5.6.0), exactly as a receiver built on the SDK would.
//
// Run by crates/dlrgate/tests/it/webhooks_signing.rs, which writes one JSON object to stdin:
//   {"secret": "<signing secret>", "url": "<full URL requested>", "method": "POST|GET",
//    "headers": {"x-signature": "…", …}, "body": "<raw body as text>"}
// Prints the verifier's result as JSON. Exit status: 0 verified, 1 refused, 2 unusable input.

import {WebhookVerifier} from '@seven.io/client'

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)

let input
try {
  input = JSON.parse(Buffer.concat(chunks).toString('utf8'))
} catch (error) {
  console.error(`stdin is not JSON: ${error.message}`)
  process.exit(2)
}
for (const key of ['secret', 'url', 'method', 'headers', 'body']) {
  if (input[key] === undefined) {
    console.error(`missing "${key}" in the input`)
    process.exit(2)
  }
}

const verifier = new WebhookVerifier({signingSecret: input.secret})
const result = await verifier.verify({
  headers: input.headers,
  body: input.body,
  url: input.url,
  method: input.method,
})
console.log(JSON.stringify(result))
process.exit(result.valid ? 0 : 1)
