//! Operators: the connectors that send messages (sandbox, SMPP, upstream HTTP gateways) and the
//! routing that picks one per message.

pub mod settings;
