//! Wall-clock formatting shared by the runtime and the gateway, without a date-time dependency.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A UTC calendar time broken into its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    pub(crate) year: i64,
    pub(crate) month: u32,
    pub(crate) day: u32,
    pub(crate) hour: u32,
    pub(crate) minute: u32,
    pub(crate) second: u32,
}

/// Milliseconds since the Unix epoch; 0 for a clock set before 1970.
pub(crate) fn epoch_millis(at: SystemTime) -> u64 {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}

/// Splits a time into UTC calendar fields (proleptic Gregorian, days-from-civil inverse).
pub(crate) fn civil(at: SystemTime) -> Civil {
    let secs = at
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    let secs = i64::try_from(secs).unwrap_or(i64::MAX);
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);

    // Howard Hinnant's civil_from_days: eras of 400 years starting on 0000-03-01.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);

    Civil {
        year,
        month: u32::try_from(month).unwrap_or(1),
        day: u32::try_from(day).unwrap_or(1),
        hour: u32::try_from(of_day / 3_600).unwrap_or(0),
        minute: u32::try_from(of_day % 3_600 / 60).unwrap_or(0),
        second: u32::try_from(of_day % 60).unwrap_or(0),
    }
}

/// The request time format API Gateway puts in events: `12/Mar/2020:19:03:58 +0000`.
pub(crate) fn request_time(at: SystemTime) -> String {
    let c = civil(at);
    let month = MONTHS
        .get(c.month.saturating_sub(1) as usize)
        .copied()
        .unwrap_or("Jan");
    format!(
        "{:02}/{month}/{}:{:02}:{:02}:{:02} +0000",
        c.day, c.year, c.hour, c.minute, c.second
    )
}

/// The date prefix of a Lambda log stream name: `2024/05/01`.
pub(crate) fn log_stream_date(at: SystemTime) -> String {
    let c = civil(at);
    format!("{}/{:02}/{:02}", c.year, c.month, c.day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_time_matches_the_api_gateway_example() {
        // The `timeEpoch` of the AWS HTTP API payload example, cut to seconds (the example's own
        // `time` string names another day, so it cannot serve as the expectation).
        let at = UNIX_EPOCH + Duration::from_secs(1_583_348_638);
        assert_eq!(request_time(at), "04/Mar/2020:19:03:58 +0000");
    }

    #[test]
    fn leap_day_and_log_stream_date() {
        let at = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29T00:00:00Z
        assert_eq!(log_stream_date(at), "2000/02/29");
        assert_eq!(epoch_millis(at), 951_782_400_000);
    }
}
