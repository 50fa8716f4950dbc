// The official seven.io npm SDK against a dlrgate whose request limit is 1 per second per key
// (limits.requests_per_second = 1, request_burst = 1): the second request within the second is
// answered HTTP 429 with body 403, which the SDK must throw as an error, never as a success.
//
// Run by crates/dlrgate/tests/it/sdk.rs with DLRGATE_BASE_URL and DLRGATE_LIMITED_API_KEY set;
// skipped in the ordinary SDK run, where that variable is absent.

import {test} from 'node:test'
import assert from 'node:assert/strict'
import {Client, SmsResource} from '@seven.io/client'

const BASE_URL = process.env.DLRGATE_BASE_URL
const API_KEY = process.env.DLRGATE_LIMITED_API_KEY

test('a request over the rate limit is thrown as the 403 error', {skip: !API_KEY}, async () => {
  Client.BASE_URL = BASE_URL
  const sms = new SmsResource(new Client({apiKey: API_KEY, sentWith: 'dlrgate-sdk-test'}))

  const first = await sms.dispatch({to: ['491761234561'], text: 'within the limit'})

  assert.equal(first.success, '100')
  await assert.rejects(
    sms.dispatch({to: ['491761234561'], text: 'over the limit'}),
    error => {
      assert.match(error.message, /^403: /)
      return true
    },
  )
})
