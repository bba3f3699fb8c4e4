//! `preallocate` reports why it could not register the thread: from a thread-local destructor
//! that runs after this thread's asynclog state is gone it says so (`ThreadExiting`, as a log
//! call there would), not "the logger is closed", which is false and sends the reader looking
//! for a `close` that never happened.

use crate::common;
use asynclog::{Error, LogError, Logger};
use common::*;
use std::sync::{Arc, Mutex};

struct PreallocateOnDrop {
    logger: Arc<Logger>,
    result: Arc<Mutex<Option<Result<(), Error>>>>,
}

impl Drop for PreallocateOnDrop {
    fn drop(&mut self) {
        *self.result.lock().unwrap() = Some(self.logger.preallocate());
    }
}

thread_local! {
    static GUARD: std::cell::RefCell<Option<PreallocateOnDrop>> = const { std::cell::RefCell::new(None) };
}

#[test]
fn preallocate_in_a_late_thread_local_destructor_says_the_thread_is_exiting() {
    let collector = Collector::default();
    let logger = Arc::new(Logger::new(config_with(&collector)).unwrap());
    let result = Arc::new(Mutex::new(None));
    std::thread::spawn({
        let logger = logger.clone();
        let result = result.clone();
        move || {
            // Thread-local destructors run in reverse order of registration: registering
            // GUARD first makes it run after asynclog's own thread state is destroyed.
            GUARD.with(|g| {
                *g.borrow_mut() = Some(PreallocateOnDrop {
                    logger: logger.clone(),
                    result,
                })
            });
            logger.info("registers this thread", &[]).unwrap();
        }
    })
    .join()
    .unwrap();

    let result = result.lock().unwrap().take().expect("the destructor ran");
    assert!(
        matches!(result, Err(Error::Refused(LogError::ThreadExiting))),
        "{result:?}"
    );
    assert!(!logger.is_closed());
    logger.flush().unwrap();
    assert_eq!(collector.len(), 1);
}
