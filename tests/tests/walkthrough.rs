//! The README's run command: every step of the walk-through gets the answer the rules call for.

use e2e::start_stack;
use local_stack::walkthrough::{self, RecentLogs};

#[tokio::test]
async fn walkthrough_gets_every_expected_answer() {
    let logs = RecentLogs::new(false);
    let sink = logs.clone();
    let test = start_stack(move |options| options.log_sink = std::sync::Arc::new(sink)).await;

    let outcomes = walkthrough::run(&test.stack, &logs).await;

    let statuses: Vec<_> = outcomes
        .iter()
        .map(|o| (o.expected, o.actual.clone()))
        .collect();
    assert_eq!(
        statuses,
        [200, 200, 201, 403, 200, 200, 403, 401, 401, 401].map(|status| (status, Ok(status)))
    );
    let refusal = &outcomes[3];
    assert_eq!(
        refusal
            .decision
            .as_deref()
            .map(|d| d.split(' ').take(2).collect::<Vec<_>>().join(" ")),
        Some("outcome=deny reason=no_rule_matched".to_owned())
    );
}
