//! `deliver_sm` and `deliver_sm_resp` (SMPP 3.4 §4.6).
//!
//! SMPP 3.4 gives `deliver_sm` exactly the fields of `submit_sm` (with scheduling, validity and replace
//! unused), so the body types are shared rather than copied. Receipt interpretation (`esm_class` masks,
//! TLVs before Appendix B text) belongs to the service, not here.

/// Body of `deliver_sm`: the `submit_sm` layout. Receipts set `esm_class` bits 0x04 or 0x20 and usually
/// carry `receipted_message_id` and `message_state` in [`super::Tlvs`].
pub type DeliverSm = super::SubmitSm;

/// Body of `deliver_sm_resp`: a `message_id` that the spec says must be empty.
pub type DeliverSmResp = super::SubmitSmResp;
