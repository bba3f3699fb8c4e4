//! An `on_message_buffered` hook that panics, with the global logger installed: the panic is
//! caught and counted (`Stats::hook_panics`), as for any logger. The panic hook that
//! `asynclog::init` installs logs the panic itself; it must not run the user's hook again from
//! inside the panic hook, where a second panic aborts the process ("thread panicked while
//! processing panic"). The global logger and the abort need a process of their own: the test
//! runs this binary again as a child.

use std::process::Command;

const CHILD: &str = "ASYNCLOG_GLOBAL_PANIC_IN_HOOK_CHILD";

#[test]
#[ignore = "helper process for a_panicking_hook_does_not_abort_with_the_global_logger; returns at once when run directly"]
fn global_panic_in_hook_child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let mut config = asynclog::Config::default();
    config.hooks = asynclog::Hooks::default().on_message_buffered(|m| {
        if m.message == "trigger" {
            panic!("hook gave up");
        }
        // The panic hook's own record: a hook that panics on every record fails here too.
        panic!("hook gave up again on {:?}", m.message);
    });
    let guard = asynclog::init(config).unwrap();
    asynclog::info!("trigger");
    let stats = guard.logger().stats();
    guard.close().unwrap();
    assert_eq!(stats.buffered, 2, "the record and the panic hook's record");
    assert_eq!(stats.hook_panics, 1, "{stats:?}");
    println!("child finished");
}

#[test]
fn a_panicking_hook_does_not_abort_with_the_global_logger() {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "global_panic_in_hook_child",
            "--ignored",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("child finished"),
        "{:?}\nstdout: {stdout}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}
