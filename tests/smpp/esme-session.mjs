// An independent ESME (npm `smpp`, node-smpp) that dlrgate's tests drive against `dlrgate smsc-sim`.
//
// Usage: node esme-session.mjs '<json>' with
//   {port, system_id, password, bind: "transceiver"|"transmitter"|"receiver",
//    submits: [{destination_addr, short_message, registered_delivery, source_addr?}],
//    expect_receipts: n, enquire_link: bool, expect_server_enquire_links: n,
//    nack_first: n (answer the first n deliver_sm with ESME_RX_T_APPN 0x64), timeout_ms}
// It prints one JSON object per line on stdout, in the order the PDUs arrived:
//   bind_resp, submit_sm_resp, deliver_sm, enquire_link_resp, enquire_link, closed, error, done.
// It finishes (unbind, exit 0) when every expectation is met, or prints done/timeout after timeout_ms.

import smpp from 'smpp';

const options = JSON.parse(process.argv[2] ?? '{}');
const submits = options.submits ?? [];
const expectReceipts = options.expect_receipts ?? 0;
const expectServerEnquireLinks = options.expect_server_enquire_links ?? 0;
let nackLeft = options.nack_first ?? 0;

const state = { resps: 0, receipts: 0, enquireResp: !options.enquire_link, serverEnquireLinks: 0, finished: false };
const print = (event) => process.stdout.write(JSON.stringify(event) + '\n');

const session = smpp.connect({ url: `smpp://127.0.0.1:${options.port}` });

function finish(reason, code = 0) {
  if (state.finished) return;
  state.finished = true;
  print({ event: 'done', reason });
  const exit = () => process.exit(code);
  if (reason === 'complete') {
    session.unbind({}, () => { session.close(); exit(); });
    setTimeout(exit, 1000);
  } else {
    session.destroy();
    setTimeout(exit, 50);
  }
}

function checkComplete() {
  if (state.resps >= submits.length && state.receipts >= expectReceipts && state.enquireResp
      && state.serverEnquireLinks >= expectServerEnquireLinks) {
    finish('complete');
  }
}

setTimeout(() => finish('timeout', 0), options.timeout_ms ?? 10000);

session.on('error', (error) => { print({ event: 'error', message: String(error.message ?? error) }); finish('error', 1); });
session.on('close', () => { print({ event: 'closed' }); if (!state.finished) finish('closed'); });

session.on('deliver_sm', (pdu) => {
  const text = pdu.short_message && pdu.short_message.message !== undefined
    ? String(pdu.short_message.message) : String(pdu.short_message ?? '');
  print({
    event: 'deliver_sm',
    sequence_number: pdu.sequence_number,
    esm_class: pdu.esm_class,
    source_addr: pdu.source_addr,
    destination_addr: pdu.destination_addr,
    receipted_message_id: pdu.receipted_message_id ?? null,
    message_state: pdu.message_state ?? null,
    network_error_code: pdu.network_error_code ? [...pdu.network_error_code] : null,
    text,
  });
  if (nackLeft > 0) {
    nackLeft -= 1;
    session.send(pdu.response({ command_status: 0x64 }));
    return;
  }
  session.send(pdu.response());
  state.receipts += 1;
  checkComplete();
});

session.on('enquire_link', (pdu) => {
  print({ event: 'enquire_link', sequence_number: pdu.sequence_number });
  session.send(pdu.response());
  state.serverEnquireLinks += 1;
  checkComplete();
});

const bind = `bind_${options.bind ?? 'transceiver'}`;
session[bind]({ system_id: options.system_id, password: options.password, interface_version: 0x34 }, (resp) => {
  print({ event: 'bind_resp', command: resp.command, command_status: resp.command_status, system_id: resp.system_id ?? null });
  if (resp.command_status !== 0) {
    finish('bind_refused');
    return;
  }
  if (options.enquire_link) {
    session.enquire_link({}, (r) => {
      print({ event: 'enquire_link_resp', command_status: r.command_status });
      state.enquireResp = true;
      checkComplete();
    });
  }
  submits.forEach((submit, index) => {
    session.submit_sm({
      source_addr: submit.source_addr ?? 'dlrgate',
      destination_addr: submit.destination_addr,
      short_message: submit.short_message ?? 'hello',
      registered_delivery: submit.registered_delivery ?? 1,
    }, (r) => {
      print({ event: 'submit_sm_resp', index, command_status: r.command_status, message_id: r.message_id ?? null });
      state.resps += 1;
      checkComplete();
    });
  });
  checkComplete();
});
