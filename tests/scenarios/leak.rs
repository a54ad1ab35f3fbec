// Two threads that never wake: one on mpsc::Receiver::recv (its sender kept, never used), one on a
// Mutex that a leaked thread holds while it sleeps for ever. Built and run by tests/cases/real.py.
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::Duration;

#[inline(never)]
fn wait_for_message(rx: mpsc::Receiver<u32>) -> u32 {
    rx.recv().unwrap_or(0)
}

#[inline(never)]
fn hold_for_ever(lock: Arc<Mutex<u32>>) {
    let _held = lock.lock().unwrap();
    loop {
        thread::sleep(Duration::from_secs(3600));
    }
}

#[inline(never)]
fn take_lock(lock: Arc<Mutex<u32>>) -> u32 {
    let value = *lock.lock().unwrap();
    value
}

fn main() {
    let (tx, rx) = mpsc::channel::<u32>();
    thread::Builder::new().name("receiver".into()).spawn(move || wait_for_message(rx)).unwrap();
    let lock = Arc::new(Mutex::new(7));
    let held = Arc::clone(&lock);
    thread::Builder::new().name("holder".into()).spawn(move || hold_for_ever(held)).unwrap();
    thread::sleep(Duration::from_millis(50));
    thread::Builder::new().name("waiter".into()).spawn(move || take_lock(lock)).unwrap();
    thread::sleep(Duration::from_millis(150));
    println!("main done");
    std::mem::forget(tx);
}
