// A scriptable SMSC for dlrgate's integration tests, built on npm `smpp` (node-smpp 0.5.1), an SMPP
// implementation dlrgate did not write. Tests drive it over a small HTTP control API.
//
// Usage: node tests/smpp/smsc-peer.mjs [--smpp-port N] [--exit-on-stdin-close]
// Prints one JSON line on stdout when ready: {"smpp_port":N,"control_port":M}. Logs go to stderr.
// Both listeners are on 127.0.0.1; port 0 (the default) picks free ports.
//
// Control API (JSON in and out, all on 127.0.0.1:control_port):
//   GET  /config             the current behaviour
//   POST /config             merge keys into the behaviour (unknown keys → 400); answers the full config
//   POST /reset              default behaviour, forget submits/delivered/held/queued (sessions stay)
//   GET  /submits            every submit_sm/data_sm received, in order
//   GET  /binds              every session, past and present
//   POST /deliver            send one receipt now (or queue it while no RX/TRX session is bound)
//   GET  /delivered          receipts sent, with the deliver_sm_resp/data_sm_resp status (null = unanswered)
//   GET  /pending            {held: [...], queued: [...]}: receipts held by hold_receipts / waiting for a bind
//   POST /release            send every held receipt
//   POST /drop               close every connection now
//   POST /enquire_link       send one enquire_link on every bound session
// See DEFAULT_CONFIG for the behaviour keys. Automatic receipts follow registered_delivery & 0x03 (0: none,
// 1: always, 2: failures only, 3: DELIVRD only); intermediates need registered_delivery & 0x10 as well.
// Submit ids count up from 0x1F00 (hex "1F00", decimal "7936"); auto_receipt.id_format converts them.

import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';
import http from 'node:http';

const require = createRequire(import.meta.url);
const smpp = require('smpp');

const log = (...args) => process.stderr.write(`[smsc-peer] ${args.map(String).join(' ')}\n`);

process.on('uncaughtException', (error) => log('uncaught exception:', error?.stack ?? error));
process.on('unhandledRejection', (error) => log('unhandled rejection:', error?.stack ?? error));

// ---------------------------------------------------------------------------------------------
// Arguments and behaviour

function argValue(name) {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}
const smppPortArg = Number(argValue('--smpp-port') ?? process.env.SMPP_PORT ?? 0);
if (process.argv.includes('--exit-on-stdin-close')) {
  // The parent test process holds our stdin; when it dies we must not linger.
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('close', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}

const DEFAULT_CONFIG = Object.freeze({
  system_id: null,            // required bind system_id (null = any); wrong → bind_resp 0x0F
  password: null,             // required bind password (null = any); wrong → bind_resp 0x0E
  submit_id_format: 'hex',    // 'hex' | 'decimal' | 'uuid' for submit_sm_resp message_id
  auto_receipt: null,         // null, or {stat, message_state, err, delay_ms, tlvs, text, id_format}
  receipt_before_response: false,
  receipt_session: null,      // where automatic receipts go: null = the first bound RX/TRX session,
                              // 'other' = a bound RX/TRX session other than the submit's own (another
                              // ESME node of the same system_id); queued until one is bound
  response_delay_ms: 0,       // delay each submit_sm_resp by this long (after its early receipts)
  response_after_receipts: false, // with receipt_before_response: send the submit_sm_resp only once
                              // every receipt sent before it was answered (deliver_sm_resp)
  duplicates: 0,              // extra copies of each automatic final receipt
  intermediate: false,        // ENROUTE esm_class 0x20 notification first, when registered_delivery & 0x10
  throttle_next: 0,           // answer the next N submit_sm with 0x58 ESME_RTHROTTLED
  error_next: null,           // {count, status}: answer the next count submit_sm with status
  drop_after_submits: null,   // close every connection after this many more submit_sm (answered first)
  no_response_next: 0,        // swallow the next N submit_sm without answering
  hold_receipts: false,       // queue receipts (automatic and intermediate) until POST /release
  redeliver_unacked: false,   // re-send receipts answered with a non-zero status (after 50 ms) or left
                              // unanswered when their session closed (on the next RX/TRX bind)
});

const AUTO_RECEIPT_DEFAULTS = Object.freeze({
  stat: 'DELIVRD', message_state: 2, err: '000', delay_ms: 0, tlvs: true, text: true, id_format: 'same',
});

let config = { ...DEFAULT_CONFIG };

// ---------------------------------------------------------------------------------------------
// State

let nextSessionId = 1;
let nextMessageNumber = 0x1F00; // hex ids then contain a letter ("1F00"), decimal ids do not ("7936")
const sessions = new Map();     // id → {id, session, info}
let submits = [];
let delivered = [];
let held = [];
let queued = [];

const now = () => new Date().toISOString();

function bindCommandMode(command) {
  return { bind_transmitter: 'tx', bind_receiver: 'rx', bind_transceiver: 'trx' }[command];
}

function receiverSessions() {
  return [...sessions.values()].filter(
    (s) => s.info.bound && !s.info.closed && (s.info.mode === 'rx' || s.info.mode === 'trx'));
}

function bindsView() {
  return [...sessions.values()].map((s) => ({ ...s.info }));
}

// ---------------------------------------------------------------------------------------------
// Decoding helpers (raw bytes, so the control API sees exactly what the client sent)

// node-smpp decodes short_message through its charset filters; keep the raw frame as well.
smpp.PDU.fromStream = function fromStreamKeepingRaw(stream, commandLength) {
  const body = stream.read(commandLength - 4);
  if (!body) {
    return false;
  }
  const head = Buffer.alloc(4);
  head.writeUInt32BE(commandLength, 0);
  const raw = Buffer.concat([head, body]);
  const pdu = new smpp.PDU(raw);
  Object.defineProperty(pdu, '_raw', { value: raw, enumerable: false });
  return pdu;
};

class Reader {
  constructor(buffer, offset) { this.buffer = buffer; this.offset = offset; }
  u8() {
    if (this.offset >= this.buffer.length) throw new Error('truncated');
    return this.buffer[this.offset++];
  }
  cstring() {
    const end = this.buffer.indexOf(0, this.offset);
    if (end < 0) throw new Error('unterminated C-octet string');
    const value = this.buffer.toString('latin1', this.offset, end);
    this.offset = end + 1;
    return value;
  }
  bytes(n) {
    if (this.offset + n > this.buffer.length) throw new Error('truncated');
    const value = this.buffer.subarray(this.offset, this.offset + n);
    this.offset += n;
    return value;
  }
  tlvs() {
    const result = [];
    while (this.offset + 4 <= this.buffer.length) {
      const tag = this.buffer.readUInt16BE(this.offset);
      const length = this.buffer.readUInt16BE(this.offset + 2);
      this.offset += 4;
      result.push({ tag, value: this.bytes(Math.min(length, this.buffer.length - this.offset)) });
    }
    return result;
  }
}

// Decodes a submit_sm or data_sm body from the raw frame. Throws on malformed input.
function decodeRaw(command, raw) {
  const r = new Reader(raw, 16);
  const d = { service_type: r.cstring(), source_addr_ton: r.u8(), source_addr_npi: r.u8(),
    source_addr: r.cstring(), dest_addr_ton: r.u8(), dest_addr_npi: r.u8(), destination_addr: r.cstring(),
    esm_class: r.u8() };
  let shortMessage = Buffer.alloc(0);
  if (command === 'submit_sm') {
    d.protocol_id = r.u8();
    d.priority_flag = r.u8();
    d.schedule_delivery_time = r.cstring();
    d.validity_period = r.cstring();
    d.registered_delivery = r.u8();
    d.replace_if_present_flag = r.u8();
    d.data_coding = r.u8();
    d.sm_default_msg_id = r.u8();
    shortMessage = r.bytes(r.u8());
  } else {
    d.protocol_id = null;
    d.priority_flag = null;
    d.schedule_delivery_time = null;
    d.validity_period = null;
    d.registered_delivery = r.u8();
    d.data_coding = r.u8();
  }
  const tlvs = r.tlvs();
  return { fields: d, shortMessage, tlvs };
}

function tlvValue(tlvs, tag) {
  const tlv = tlvs.find((t) => t.tag === tag);
  return tlv ? tlv.value : undefined;
}

function decodeUdh(shortMessage) {
  if (shortMessage.length === 0) return null;
  const udhl = shortMessage[0];
  if (udhl + 1 > shortMessage.length) return { hex: shortMessage.toString('hex'), malformed: true };
  const udh = shortMessage.subarray(0, udhl + 1);
  const info = { hex: udh.toString('hex'), concat: null };
  let i = 1;
  while (i + 1 < udh.length) {
    const iei = udh[i];
    const len = udh[i + 1];
    const data = udh.subarray(i + 2, i + 2 + len);
    if (iei === 0x00 && len === 3) info.concat = { ref: data[0], total: data[1], seq: data[2], ref_bits: 8 };
    if (iei === 0x08 && len === 4) info.concat = { ref: data.readUInt16BE(0), total: data[2], seq: data[3], ref_bits: 16 };
    i += 2 + len;
  }
  return { ...info, payload: shortMessage.subarray(udhl + 1) };
}

function decodeText(bytes, dataCoding) {
  try {
    if ((dataCoding & 0x0F) === 0x08) {
      const even = bytes.length - (bytes.length % 2);
      const swapped = Buffer.from(bytes.subarray(0, even));
      swapped.swap16();
      return swapped.toString('utf16le');
    }
    return bytes.toString('latin1');
  } catch {
    return '';
  }
}

function describeSubmit(command, pdu, sessionId) {
  const { fields, shortMessage, tlvs } = decodeRaw(command, pdu._raw);
  const payload = tlvValue(tlvs, 0x0424);
  const udhi = (fields.esm_class & 0x40) !== 0;
  const udh = udhi ? decodeUdh(shortMessage) : null;
  const textBytes = payload ?? (udh?.payload ?? shortMessage);
  const sarRef = tlvValue(tlvs, 0x020C);
  const sarTotal = tlvValue(tlvs, 0x020E);
  const sarSeq = tlvValue(tlvs, 0x020F);
  const sar = sarRef && sarRef.length >= 2 && sarTotal?.length && sarSeq?.length
    ? { msg_ref_num: sarRef.readUInt16BE(0), total_segments: sarTotal[0], segment_seqnum: sarSeq[0] }
    : null;
  const record = {
    command,
    sequence_number: pdu.sequence_number,
    message_id: null,
    command_status: null,
    answered: true,
    response_sent_at: null,
    ...fields,
    short_message_hex: shortMessage.toString('hex'),
    message_payload_hex: payload ? payload.toString('hex') : null,
    text: decodeText(textBytes, fields.data_coding),
    udh: udh ? { hex: udh.hex, concat: udh.concat ?? null } : null,
    sar,
    tlvs: tlvs.map((t) => ({ tag: t.tag, hex: t.value.toString('hex') })),
    session: sessionId,
    received_at: now(),
  };
  return record;
}

// ---------------------------------------------------------------------------------------------
// Ids and receipts

function newMessage() {
  const number = nextMessageNumber++;
  let id;
  switch (config.submit_id_format) {
    case 'decimal': id = String(number); break;
    case 'uuid': id = randomUUID(); break;
    default: id = number.toString(16).toUpperCase();
  }
  return { number, id };
}

function receiptId(message, idFormat) {
  if (config.submit_id_format === 'uuid' || !idFormat || idFormat === 'same') return message.id;
  if (idFormat === 'decimal') return String(message.number);
  if (idFormat === 'hex') return message.number.toString(16).toUpperCase();
  return message.id;
}

function smppDate(date) {
  const p = (n) => String(n).padStart(2, '0');
  return `${p(date.getUTCFullYear() % 100)}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}`
    + `${p(date.getUTCHours())}${p(date.getUTCMinutes())}`;
}

function pad3(value) {
  const s = String(value);
  return /^\d+$/.test(s) ? s.padStart(3, '0') : s;
}

// A receipt to send: everything needed to build the PDU later (it may wait in a queue).
function makeReceipt(spec) {
  const stat = spec.stat ?? 'DELIVRD';
  const submitted = spec.submit_date ?? new Date();
  const dlvrd = stat === 'DELIVRD' ? '001' : '000';
  const text = spec.text_override ?? `id:${spec.id} sub:001 dlvrd:${dlvrd} submit date:${smppDate(submitted)}`
    + ` done date:${smppDate(new Date())} stat:${stat} err:${pad3(spec.err ?? '000')}`
    + ` text:${(spec.original_text ?? '').slice(0, 20)}`;
  return {
    kind: spec.kind ?? 'manual',
    attempt: 1,
    id: String(spec.id ?? ''),
    stat,
    message_state: spec.message_state ?? null,
    err: spec.err ?? '000',
    tlvs: spec.tlvs !== false,
    text: spec.text !== false,
    esm_class: spec.esm_class ?? 0x04,
    network_error_code: spec.network_error_code ?? null,
    via: spec.via === 'data_sm' ? 'data_sm' : 'deliver_sm',
    session: spec.session ?? null,
    // 'other' routing: the session the receipt must not go on (the submit's own).
    avoid_session: spec.avoid_session ?? null,
    source_addr: spec.source_addr ?? '',
    destination_addr: spec.destination_addr ?? '',
    short_message: spec.text !== false || spec.text_override !== undefined ? text : '',
    created_at: now(),
  };
}

function receiptPdu(receipt) {
  const options = {
    source_addr: receipt.source_addr,
    destination_addr: receipt.destination_addr,
    esm_class: receipt.esm_class,
    data_coding: 0,
  };
  if (receipt.tlvs) {
    options.receipted_message_id = receipt.id;
    if (receipt.message_state !== null && receipt.message_state !== undefined) {
      options.message_state = receipt.message_state;
    }
  }
  if (receipt.network_error_code) {
    const nec = Buffer.alloc(3);
    nec.writeUInt8((receipt.network_error_code.type ?? 3) & 0xFF, 0);
    nec.writeUInt16BE((receipt.network_error_code.code ?? 0) & 0xFFFF, 1);
    options.network_error_code = nec;
  }
  const text = Buffer.from(receipt.short_message, 'latin1');
  if (receipt.via === 'data_sm') {
    if (text.length) options.message_payload = text;
  } else {
    options.short_message = text;
  }
  return new smpp.PDU(receipt.via, options);
}

// Sends now on the receipt's session (or any RX/TRX session); queues when none is bound.
// Returns {sequence_number, session} or {queued: true}.
function sendReceipt(receipt) {
  let target;
  if (receipt.session !== null && receipt.session !== undefined) {
    const entry = sessions.get(receipt.session);
    if (entry && entry.info.bound && !entry.info.closed && entry.info.mode !== 'tx') target = entry;
  } else {
    target = receiverSessions().find((s) => s.id !== receipt.avoid_session);
  }
  if (!target) {
    queued.push(receipt);
    log(`receipt for ${receipt.id} queued (no bound RX/TRX session)`);
    return { queued: true };
  }
  const pdu = receiptPdu(receipt);
  const record = { ...receipt, session: target.id, sequence_number: null, sent_at: now(),
    command_status: null, answered_at: null, requeued: false };
  Object.defineProperty(record, '_receipt', { value: receipt, enumerable: false });
  const ok = target.session.send(pdu, (resp) => {
    record.command_status = resp.command_status;
    record.answered_at = now();
    receipt._onAnswered?.(resp);
    if (resp.command_status !== 0 && config.redeliver_unacked) {
      record.requeued = true;
      setTimeout(() => sendReceipt(redelivery(receipt)), 50);
    }
  });
  if (!ok) {
    queued.push(receipt);
    return { queued: true };
  }
  record.sequence_number = pdu.sequence_number;
  delivered.push(record);
  return { sequence_number: pdu.sequence_number, session: target.id };
}

function redelivery(receipt) {
  return { ...receipt, session: null, attempt: (receipt.attempt ?? 1) + 1 };
}

// Receipts sent on a session that closed before answering them go back to the queue.
function requeueUnanswered(sessionId) {
  for (const record of delivered) {
    if (record.session === sessionId && record.command_status === null && !record.requeued) {
      record.requeued = true;
      queued.push(redelivery(record._receipt));
    }
  }
  flushQueued();
}

function flushQueued() {
  if (queued.length === 0 || receiverSessions().length === 0) return;
  const waiting = queued;
  queued = [];
  for (const receipt of waiting) {
    // A receipt pinned to a session that is gone goes to any receiver now.
    const pinned = receipt.session !== null && receipt.session !== undefined
      ? sessions.get(receipt.session) : null;
    if (pinned && (pinned.info.closed || !pinned.info.bound)) receipt.session = null;
    sendReceipt(receipt);
  }
}

// Automatic receipts go through hold_receipts; manual ones (POST /deliver) do not.
function dispatchAuto(receipt) {
  if (config.hold_receipts) {
    held.push(receipt);
    return;
  }
  sendReceipt(receipt);
}

function wantsReceipt(registeredDelivery, stat) {
  switch (registeredDelivery & 0x03) {
    case 0x01: return true;
    case 0x02: return stat !== 'DELIVRD';
    case 0x03: return stat === 'DELIVRD';
    default: return false;
  }
}

function autoReceipts(message, record, submitDate) {
  if (!config.auto_receipt) return [];
  const ar = { ...AUTO_RECEIPT_DEFAULTS, ...config.auto_receipt };
  const id = receiptId(message, ar.id_format);
  const base = {
    id, err: ar.err, tlvs: ar.tlvs, text: ar.text, submit_date: submitDate,
    avoid_session: config.receipt_session === 'other' ? record.session : null,
    original_text: record.text,
    // The receipt goes from the handset back to the sender.
    source_addr: record.destination_addr, destination_addr: record.source_addr,
  };
  const out = [];
  if (config.intermediate && (record.registered_delivery & 0x10)) {
    out.push(makeReceipt({ ...base, kind: 'intermediate', err: '000', stat: 'ENROUTE', message_state: 1, esm_class: 0x20 }));
  }
  if (wantsReceipt(record.registered_delivery, ar.stat)) {
    const copies = 1 + Math.max(0, Number(config.duplicates) || 0);
    for (let i = 0; i < copies; i += 1) {
      out.push(makeReceipt({ ...base, kind: i === 0 ? 'auto' : 'duplicate', stat: ar.stat,
        message_state: ar.message_state, esm_class: 0x04 }));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// SMPP sessions

function closeAll(reason) {
  log(`closing every connection: ${reason}`);
  for (const entry of sessions.values()) {
    if (!entry.info.closed) {
      try { entry.session.destroy(); } catch (error) { log('destroy failed:', error); }
    }
  }
}

function handleSubmit(entry, pdu) {
  const command = pdu.command;
  let record;
  try {
    record = describeSubmit(command, pdu, entry.id);
  } catch (error) {
    log(`malformed ${command} (seq ${pdu.sequence_number}): ${error.message}`);
    entry.session.send(pdu.response({ command_status: smpp.ESME_RSYSERR ?? 0x08 }));
    return;
  }
  submits.push(record);

  if (!entry.info.bound || entry.info.mode === 'rx') {
    record.command_status = 0x04; // ESME_RINVBNDSTS
    entry.session.send(pdu.response({ command_status: 0x04 }));
    return;
  }

  let dropAfter = false;
  if (config.drop_after_submits !== null && config.drop_after_submits !== undefined) {
    config.drop_after_submits = Number(config.drop_after_submits) - 1;
    if (config.drop_after_submits <= 0) {
      config.drop_after_submits = null;
      dropAfter = true;
    }
  }
  const finish = () => { if (dropAfter) setImmediate(() => closeAll('drop_after_submits reached')); };

  if (config.no_response_next > 0) {
    config.no_response_next -= 1;
    record.answered = false;
    finish();
    return;
  }
  if (config.throttle_next > 0) {
    config.throttle_next -= 1;
    record.command_status = 0x58;
    entry.session.send(pdu.response({ command_status: 0x58 }));
    finish();
    return;
  }
  if (config.error_next && Number(config.error_next.count) > 0) {
    const status = Number(config.error_next.status ?? 0x0B);
    config.error_next = { ...config.error_next, count: Number(config.error_next.count) - 1 };
    if (config.error_next.count <= 0) config.error_next = null;
    record.command_status = status;
    entry.session.send(pdu.response({ command_status: status }));
    finish();
    return;
  }

  const message = newMessage();
  record.message_id = message.id;
  record.command_status = 0;
  const receipts = autoReceipts(message, record, new Date());
  // The response goes out after response_delay_ms; `then` runs once it is sent.
  const respond = (then) => {
    const send = () => {
      record.response_sent_at = now();
      entry.session.send(pdu.response({ message_id: message.id }));
      then?.();
    };
    const delay = Math.max(0, Number(config.response_delay_ms) || 0);
    if (delay > 0) setTimeout(send, delay); else send();
  };
  if (config.receipt_before_response) {
    const waitForAnswers = config.response_after_receipts && receipts.length > 0;
    if (waitForAnswers) {
      // The response waits until every early receipt has its deliver_sm_resp.
      let unanswered = receipts.length;
      const answered = () => { unanswered -= 1; if (unanswered === 0) respond(); };
      for (const receipt of receipts) {
        Object.defineProperty(receipt, '_onAnswered', { value: answered, enumerable: false });
      }
    }
    for (const receipt of receipts) dispatchAuto(receipt);
    if (!waitForAnswers) respond();
  } else {
    respond(() => {
      const delay = Math.max(0, Number(config.auto_receipt?.delay_ms) || 0);
      if (receipts.length) {
        const send = () => { for (const receipt of receipts) dispatchAuto(receipt); };
        if (delay > 0) setTimeout(send, delay); else setImmediate(send);
      }
    });
  }
  finish();
}

function handleBind(entry, pdu) {
  const mode = bindCommandMode(pdu.command);
  Object.assign(entry.info, {
    command: pdu.command,
    system_id: pdu.system_id ?? null,
    interface_version: pdu.interface_version ?? null,
    bind_attempts: (entry.info.bind_attempts ?? 0) + 1,
  });
  let status = 0;
  if (entry.info.bound) status = 0x05; // ESME_RALYBND
  else if (config.system_id !== null && pdu.system_id !== config.system_id) status = 0x0F;
  else if (config.password !== null && pdu.password !== config.password) status = 0x0E;
  entry.info.bind_status = status;
  if (status !== 0) {
    log(`session ${entry.id}: ${pdu.command} refused with 0x${status.toString(16)}`);
    entry.session.send(pdu.response({ command_status: status }));
    return;
  }
  entry.info.bound = true;
  entry.info.mode = mode;
  entry.info.bound_at = now();
  entry.session.send(pdu.response({ system_id: 'smsc-peer', sc_interface_version: 0x34 }));
  log(`session ${entry.id}: bound ${mode} as ${pdu.system_id}`);
  setImmediate(flushQueued);
}

function attachSession(session) {
  const id = nextSessionId++;
  const info = {
    session: id, command: null, system_id: null, interface_version: null, mode: null,
    bound: false, closed: false, connected_at: now(), closed_at: null,
    enquire_link_sent: 0, enquire_link_answered: 0, enquire_link_received: 0,
  };
  const entry = { id, session, info };
  sessions.set(id, entry);
  log(`session ${id}: connected`);

  const guard = (name, fn) => (pdu) => {
    try { fn(pdu); } catch (error) { log(`session ${id}: ${name} handler failed:`, error?.stack ?? error); }
  };

  session.on('error', (error) => {
    // node-smpp stops reading a session after a decode error; close it rather than hang.
    log(`session ${id}: error: ${error?.message ?? error}`);
    try { session.destroy(); } catch { /* already gone */ }
  });
  session.on('close', () => {
    info.closed = true;
    info.bound = false;
    info.closed_at = now();
    log(`session ${id}: closed`);
    if (config.redeliver_unacked) requeueUnanswered(id);
  });
  for (const command of ['bind_transmitter', 'bind_receiver', 'bind_transceiver']) {
    session.on(command, guard(command, (pdu) => handleBind(entry, pdu)));
  }
  session.on('submit_sm', guard('submit_sm', (pdu) => handleSubmit(entry, pdu)));
  session.on('data_sm', guard('data_sm', (pdu) => handleSubmit(entry, pdu)));
  session.on('enquire_link', guard('enquire_link', (pdu) => {
    info.enquire_link_received += 1;
    session.send(pdu.response());
  }));
  session.on('unbind', guard('unbind', (pdu) => {
    info.unbound = true;
    session.send(pdu.response(), () => session.close());
    info.bound = false;
  }));
  session.on('unknown', guard('unknown', (pdu) => {
    log(`session ${id}: unknown command_id 0x${(pdu.command_id >>> 0).toString(16)}`);
    session.send(pdu.response());
  }));
  session.on('generic_nack', guard('generic_nack', (pdu) => {
    log(`session ${id}: generic_nack status 0x${pdu.command_status.toString(16)} seq ${pdu.sequence_number}`);
  }));
  // Requests the peer does not implement get a generic_nack rather than silence.
  const handled = new Set(['bind_transmitter', 'bind_receiver', 'bind_transceiver', 'submit_sm', 'data_sm',
    'enquire_link', 'unbind', 'unknown']);
  session.on('pdu', guard('pdu', (pdu) => {
    if (!pdu.isResponse() && !handled.has(pdu.command)) {
      log(`session ${id}: ${pdu.command} not supported, generic_nack`);
      session.send(new smpp.PDU('generic_nack', { sequence_number: pdu.sequence_number, command_status: 0x03 }));
    }
  }));
}

const server = smpp.createServer((session) => {
  try { attachSession(session); } catch (error) { log('session setup failed:', error?.stack ?? error); }
});
server.on('error', (error) => log('smpp server error:', error?.message ?? error));

// ---------------------------------------------------------------------------------------------
// HTTP control API

const CONFIG_KEYS = new Set(Object.keys(DEFAULT_CONFIG));

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (!text) return resolve({});
      try { resolve(JSON.parse(text)); } catch (error) { reject(new Error(`invalid JSON: ${error.message}`)); }
    });
    req.on('error', reject);
  });
}

function reply(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const routes = {
  'GET /config': () => [200, config],
  'POST /config': (body) => {
    if (!body || typeof body !== 'object' || Array.isArray(body)) return [400, { error: 'expected a JSON object' }];
    const unknown = Object.keys(body).filter((k) => !CONFIG_KEYS.has(k));
    if (unknown.length) return [400, { error: `unknown config keys: ${unknown.join(', ')}` }];
    if ('submit_id_format' in body && !['hex', 'decimal', 'uuid'].includes(body.submit_id_format)) {
      return [400, { error: 'submit_id_format must be hex, decimal or uuid' }];
    }
    config = { ...config, ...body };
    return [200, config];
  },
  'POST /reset': () => {
    config = { ...DEFAULT_CONFIG };
    submits = [];
    delivered = [];
    held = [];
    queued = [];
    return [200, config];
  },
  'GET /submits': () => [200, submits],
  'GET /binds': () => [200, bindsView()],
  'GET /delivered': () => [200, delivered],
  'GET /pending': () => [200, { held, queued }],
  'POST /deliver': (body) => {
    if (!body || typeof body !== 'object' || body.id === undefined) return [400, { error: 'id is required' }];
    if (body.session !== undefined && body.session !== null) {
      const entry = sessions.get(Number(body.session));
      if (!entry) return [404, { error: `no session ${body.session}` }];
      if (entry.info.mode === 'tx') return [409, { error: `session ${body.session} is a transmitter` }];
    }
    const receipt = makeReceipt({
      ...body,
      kind: 'manual',
      session: body.session === undefined || body.session === null ? null : Number(body.session),
      message_state: body.message_state === undefined ? 2 : body.message_state,
    });
    return [200, sendReceipt(receipt)];
  },
  'POST /release': () => {
    const waiting = held;
    held = [];
    const results = waiting.map((receipt) => sendReceipt(receipt));
    return [200, { released: results.length, results }];
  },
  'POST /drop': () => {
    const open = [...sessions.values()].filter((s) => !s.info.closed).map((s) => s.id);
    closeAll('POST /drop');
    return [200, { closed: open }];
  },
  'POST /enquire_link': () => {
    const sent = [];
    for (const entry of sessions.values()) {
      if (entry.info.closed || !entry.info.bound) continue;
      entry.info.enquire_link_sent += 1;
      const ok = entry.session.enquire_link({}, () => { entry.info.enquire_link_answered += 1; });
      if (ok) sent.push(entry.id);
    }
    return [200, { sent }];
  },
};

const control = http.createServer(async (req, res) => {
  try {
    const path = (req.url ?? '/').split('?')[0];
    const handler = routes[`${req.method} ${path}`];
    if (!handler) return reply(res, 404, { error: `no route ${req.method} ${path}` });
    let body = {};
    if (req.method === 'POST') {
      try { body = await readBody(req); } catch (error) { return reply(res, 400, { error: error.message }); }
    }
    const [status, answer] = handler(body);
    reply(res, status, answer);
  } catch (error) {
    log('control request failed:', error?.stack ?? error);
    try { reply(res, 500, { error: String(error?.message ?? error) }); } catch { /* response gone */ }
  }
});
control.on('error', (error) => log('control server error:', error?.message ?? error));

server.listen(smppPortArg, '127.0.0.1', () => {
  control.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${JSON.stringify({ smpp_port: server.address().port, control_port: control.address().port })}\n`);
    log(`listening: smpp ${server.address().port}, control ${control.address().port}`);
  });
});
