// The official seven.io npm SDK (@seven.io/client 5.6.0) against a running dlrgate.
//
// Run by crates/dlrgate/tests/it/sdk.rs, which starts dlrgate and sets:
//   DLRGATE_BASE_URL  e.g. http://127.0.0.1:PORT/api
//   DLRGATE_API_KEY   an API key of that dlrgate
// Only the SDK talks to dlrgate here: what passes is what an SDK user gets.

import {test, describe} from 'node:test'
import assert from 'node:assert/strict'
import {Client, SmsResource, StatusResource, JournalResource} from '@seven.io/client'

const BASE_URL = process.env.DLRGATE_BASE_URL
const API_KEY = process.env.DLRGATE_API_KEY
if (!BASE_URL || !API_KEY) {
  throw new Error('set DLRGATE_BASE_URL (http://127.0.0.1:PORT/api) and DLRGATE_API_KEY')
}
Client.BASE_URL = BASE_URL

const client = new Client({apiKey: API_KEY, sentWith: 'dlrgate-sdk-test'})

// The sandbox operator decides by the recipient's last digit (README).
const PROMISED = {
  '491761234561': 'DELIVERED',
  '491761234565': 'DELIVERED',
  '491761234566': 'DELIVERED',
  '491761234567': 'NOTDELIVERED',
  '491761234568': 'EXPIRED',
  '491761234569': 'REJECTED',
  '491761234560': 'FAILED',
}
const RECIPIENTS = Object.keys(PROMISED)
const FINAL = new Set(['DELIVERED', 'NOTDELIVERED', 'EXPIRED', 'REJECTED', 'FAILED'])
const STATUS_DEADLINE_MS = 30_000
const LABEL = 'sdk-label'
const FOREIGN_ID = `sdk-order-${process.pid}`

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

// The send happens once; every test that needs its answer awaits the same promise.
let sending
function sent() {
  sending ??= new SmsResource(client).dispatch({
    to: RECIPIENTS,
    text: 'Hello from the official SDK',
    from: 'dlrgate',
    foreign_id: FOREIGN_ID,
    label: LABEL,
  })
  return sending
}

// recipient -> id, from the send answer.
async function idsByRecipient() {
  const answer = await sent()
  const map = new Map()
  for (const message of answer.messages) {
    map.set(message.recipient.replace(/^\+/, ''), message.id)
  }
  return map
}

// Polls StatusResource.get until every id has a final status or the deadline passes.
async function finalStatuses(ids) {
  const statuses = new StatusResource(client)
  const deadline = Date.now() + STATUS_DEADLINE_MS
  let last
  while (true) {
    last = await statuses.get(ids.map(Number))
    if (last.every(entry => FINAL.has(entry.status))) return last
    if (Date.now() > deadline) {
      assert.fail(`statuses not final within ${STATUS_DEADLINE_MS} ms: ${JSON.stringify(last)}`)
    }
    await sleep(25)
  }
}

describe('the official SDK sends through dlrgate', () => {
  test('dispatch to several recipients answers success 100 with one string id each', async () => {
    const answer = await sent()

    assert.equal(answer.success, '100', JSON.stringify(answer))
    assert.equal(typeof answer.total_price, 'number')
    assert.equal(answer.debug, 'false')
    assert.ok(Array.isArray(answer.messages), JSON.stringify(answer))
    assert.equal(answer.messages.length, RECIPIENTS.length)
    const ids = answer.messages.map(m => m.id)
    assert.equal(new Set(ids).size, ids.length, `ids are not unique: ${ids}`)
    for (const message of answer.messages) {
      assert.equal(typeof message.id, 'string', JSON.stringify(message))
      assert.match(message.id, /^[1-9][0-9]*$/)
      assert.ok(Number.isSafeInteger(Number(message.id)), `id ${message.id} is not a safe JS integer`)
      assert.equal(message.success, true, JSON.stringify(message))
      assert.equal(message.error, null)
      assert.equal(message.error_text, null)
      assert.equal(message.encoding, 'gsm')
      assert.equal(message.parts, 1)
      assert.equal(message.sender, 'dlrgate')
      assert.equal(message.label, LABEL)
      assert.equal(typeof message.price, 'number')
    }
    assert.deepEqual(
      answer.messages.map(m => m.recipient.replace(/^\+/, '')).sort(),
      [...RECIPIENTS].sort(),
    )
  })

  test('StatusResource.get reaches the final status the sandbox promises for each last digit', async () => {
    const byRecipient = await idsByRecipient()
    const ids = RECIPIENTS.map(r => byRecipient.get(r))

    const statuses = await finalStatuses(ids)

    assert.equal(statuses.length, ids.length)
    RECIPIENTS.forEach((recipient, i) => {
      const entry = statuses[i]
      assert.equal(String(entry.id), ids[i], 'entries come back in request order')
      assert.equal(entry.status, PROMISED[recipient], `recipient ${recipient}: ${JSON.stringify(entry)}`)
      assert.match(entry.status_time, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/)
    })
  })

  test('JournalResource.outbound with an id returns that message with dlr, foreign_id and label', async () => {
    const byRecipient = await idsByRecipient()
    const ids = RECIPIENTS.map(r => byRecipient.get(r))
    await finalStatuses(ids)
    const journal = new JournalResource(client)

    for (const recipient of RECIPIENTS) {
      const id = byRecipient.get(recipient)
      const rows = await journal.outbound({id: Number(id), limit: 1})

      assert.ok(Array.isArray(rows), JSON.stringify(rows))
      assert.equal(rows.length, 1, JSON.stringify(rows))
      const row = rows[0]
      assert.equal(row.id, id)
      assert.equal(row.to.replace(/^\+/, ''), recipient)
      assert.equal(row.from, 'dlrgate')
      assert.equal(row.text, 'Hello from the official SDK')
      assert.equal(row.dlr, PROMISED[recipient], JSON.stringify(row))
      assert.match(row.dlr_timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/)
      assert.match(row.timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/)
      assert.equal(typeof row.price, 'string')
      assert.match(row.price, /^\d+\.\d{4}$/)
      assert.equal(typeof row.latency, 'string')
      assert.match(row.latency, /^\d+\.\d{4}$/)
      assert.equal(row.type, 'direct')
      assert.equal(row.foreign_id, FOREIGN_ID)
      assert.equal(row.label, LABEL)
    }
  })

  test('JournalResource.outbound without an id lists every sent message, newest first', async () => {
    const byRecipient = await idsByRecipient()
    const ids = RECIPIENTS.map(r => byRecipient.get(r))
    await finalStatuses(ids)

    const rows = await new JournalResource(client).outbound({limit: 100})

    assert.ok(Array.isArray(rows), JSON.stringify(rows))
    const listed = new Map(rows.map(row => [row.id, row]))
    for (const recipient of RECIPIENTS) {
      const row = listed.get(byRecipient.get(recipient))
      assert.ok(row, `message to ${recipient} missing from the journal: ${JSON.stringify(rows)}`)
      assert.equal(row.dlr, PROMISED[recipient])
      assert.equal(row.foreign_id, FOREIGN_ID)
      assert.equal(row.label, LABEL)
    }
    const times = rows.map(row => row.timestamp)
    assert.deepEqual(times, [...times].sort().reverse(), 'rows are newest first')
  })
})

test('a client with a wrong API key gets the 900 error thrown', async () => {
  const wrong = new Client({apiKey: 'definitely-not-a-key', sentWith: 'dlrgate-sdk-test'})

  await assert.rejects(
    new SmsResource(wrong).dispatch({to: ['491761234561'], text: 'must not be sent'}),
    error => {
      assert.match(error.message, /^900: /)
      return true
    },
  )
  await assert.rejects(new StatusResource(wrong).get([1]), /^Error: 900: /)
  await assert.rejects(new JournalResource(wrong).outbound({limit: 1}), /^Error: 900: /)
})
