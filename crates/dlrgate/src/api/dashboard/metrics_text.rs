//! Reads per-connector values back from dlrgate's own Prometheus exposition, for the dashboard's
//! connector health: the operators keep their bind and throttle state only as metrics.

use std::collections::BTreeMap;

/// The sum of every sample of `metric` per `connector` label value.
pub fn per_connector(exposition: &str, metric: &str) -> BTreeMap<String, f64> {
    let mut sums = BTreeMap::new();
    for line in exposition.lines() {
        let Some(rest) = line.strip_prefix(metric) else {
            continue;
        };
        let Some(labels) = rest.strip_prefix('{') else {
            continue;
        };
        let Some((labels, value)) = labels.rsplit_once("} ") else {
            continue;
        };
        let Ok(value) = value.trim().parse::<f64>() else {
            continue;
        };
        if let Some(connector) = label(labels, "connector") {
            *sums.entry(connector.to_owned()).or_insert(0.0) += value;
        }
    }
    sums
}

/// The value of `name` in a label set `a="x",b="y"` (values without escaped quotes).
fn label<'a>(labels: &'a str, name: &str) -> Option<&'a str> {
    labels.split(',').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key.trim() == name).then(|| value.trim().trim_matches('"'))
    })
}

#[cfg(test)]
mod tests {
    use super::per_connector;

    #[test]
    fn sums_samples_per_connector_and_ignores_other_metrics() {
        let text = "# TYPE dlrgate_smpp_binds_up gauge\n\
            dlrgate_smpp_binds_up{connector=\"smsc\"} 2\n\
            dlrgate_smpp_binds_up_other{connector=\"smsc\"} 9\n\
            dlrgate_receipts_total{connector=\"a\",result=\"matched\"} 3\n\
            dlrgate_receipts_total{result=\"parked\",connector=\"a\"} 4\n\
            dlrgate_receipts_total 5\n";
        let binds = per_connector(text, "dlrgate_smpp_binds_up");
        assert_eq!(
            binds.into_iter().collect::<Vec<_>>(),
            [("smsc".to_owned(), 2.0)]
        );
        let receipts = per_connector(text, "dlrgate_receipts_total");
        assert_eq!(
            receipts.into_iter().collect::<Vec<_>>(),
            [("a".to_owned(), 7.0)]
        );
    }
}
