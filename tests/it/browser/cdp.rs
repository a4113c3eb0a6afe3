//! A small driver of headless Chromium over the DevTools protocol, through the pipe Chromium
//! opens with `--remote-debugging-pipe` (it reads commands on file descriptor 3 and writes
//! answers and events on 4, each a JSON message ended by a NUL byte): no port, no WebSocket,
//! no crate beyond `libc` to hand it the two pipes. What the tests need and no more: open a
//! page, run script in it, press keys, set the viewport and media, take a screenshot, and
//! collect every console error, uncaught exception, error log entry and network request.
//!
//! Every wait is bounded ([`TIMEOUT`]), and a browser that cannot be found fails the test with
//! a message that says how to install one: a browser test never passes by not running.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// The longest any one command or wait may take.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// The names Chromium is installed under (Debian's package is `chromium`).
const NAMES: [&str; 4] = [
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
];

/// The browser to run: `$TICKETSIM_CHROMIUM` if set, else the first of [`NAMES`] on the PATH.
/// Panics, saying how to install one, when there is none.
pub fn find_chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("TICKETSIM_CHROMIUM") {
        return PathBuf::from(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in NAMES {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "BROWSER TESTS CANNOT RUN: no Chromium found (looked for {} on the PATH, and \
         $TICKETSIM_CHROMIUM). Install it with `apt-get install chromium` (.ci/run does this \
         when it is missing), or point TICKETSIM_CHROMIUM at a Chromium or Chrome binary.",
        NAMES.join(", ")
    );
}

/// A headless Chromium, driven through its pipe.
pub struct Browser {
    child: Child,
    commands: std::fs::File,
    messages: Receiver<Value>,
    next_id: u64,
    /// Every event received and not yet claimed, in order.
    pub events: Vec<Value>,
    _profile: tempfile::TempDir,
}

/// Two ends of a new pipe: (read, write), neither inherited by children unless moved.
fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `fds` has room for the two descriptors `pipe` writes, and `fcntl` only sets a
    // flag on each. (No other thread of these tests starts a child between the two calls
    // that could matter: a descriptor leaked into another child only delays its close.)
    unsafe {
        assert_eq!(
            libc::pipe(fds.as_mut_ptr()),
            0,
            "pipe: {}",
            std::io::Error::last_os_error()
        );
        for fd in fds {
            libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
        }
    }
    // SAFETY: both descriptors were just opened and are owned by nothing else.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

impl Browser {
    /// Start headless Chromium with an empty profile.
    pub fn start() -> Browser {
        use std::os::fd::AsRawFd;
        let binary = find_chromium();
        let profile = tempfile::tempdir().unwrap();
        let (their_in, our_out) = pipe();
        let (our_in, their_out) = pipe();
        let (fd_in, fd_out) = (their_in.as_raw_fd(), their_out.as_raw_fd());
        let mut command = Command::new(&binary);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--remote-debugging-pipe",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--mute-audio",
                "--hide-scrollbars",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: between fork and exec only fcntl and dup2 run, which are async-signal-safe.
        // Both ends are first copied above 9, so that neither is overwritten when the other
        // lands on 3 or 4; dup2's copies on 3 and 4 do not close on exec.
        unsafe {
            command.pre_exec(move || {
                let high_in = libc::fcntl(fd_in, libc::F_DUPFD_CLOEXEC, 10);
                let high_out = libc::fcntl(fd_out, libc::F_DUPFD_CLOEXEC, 10);
                if high_in < 0
                    || high_out < 0
                    || libc::dup2(high_in, 3) < 0
                    || libc::dup2(high_out, 4) < 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().unwrap_or_else(|e| {
            panic!(
                "BROWSER TESTS CANNOT RUN: {} would not start: {e}. Install Chromium with \
                 `apt-get install chromium` (.ci/run does this when it is missing).",
                binary.display()
            )
        });
        drop((their_in, their_out));
        let (send, messages) = channel();
        let reader = std::fs::File::from(our_in);
        std::thread::spawn(move || {
            let mut reader = BufReader::new(reader);
            let mut buf = Vec::new();
            while let Ok(n) = reader.read_until(0, &mut buf) {
                if n == 0 {
                    return;
                }
                if buf.last() == Some(&0) {
                    buf.pop();
                }
                if let Ok(value) = serde_json::from_slice::<Value>(&buf) {
                    if send.send(value).is_err() {
                        return;
                    }
                }
                buf.clear();
            }
        });
        Browser {
            child,
            commands: std::fs::File::from(our_out),
            messages,
            next_id: 0,
            events: Vec::new(),
            _profile: profile,
        }
    }

    /// Send `method` with `params` (to the page `session`, or to the browser) and wait for its
    /// answer; panics on an error answer.
    pub fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = session {
            message["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&message).unwrap();
        bytes.push(0);
        self.commands.write_all(&bytes).unwrap();
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let message = self.receive(deadline, method);
            if message.get("id").and_then(Value::as_u64) == Some(id) {
                if let Some(error) = message.get("error") {
                    panic!("{method} failed: {error}");
                }
                return message["result"].clone();
            }
            self.events.push(message);
        }
    }

    fn receive(&mut self, deadline: Instant, waiting_for: &str) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.messages.recv_timeout(left) {
            Ok(message) => message,
            Err(RecvTimeoutError::Timeout) => {
                panic!("Chromium did not answer {waiting_for} within {TIMEOUT:?}")
            }
            Err(RecvTimeoutError::Disconnected) => {
                panic!("Chromium closed its pipe while we waited for {waiting_for}")
            }
        }
    }

    /// Wait for the event `method` of `session`, keeping every other event.
    pub fn wait_for(&mut self, session: &str, method: &str) -> Value {
        if let Some(i) = self
            .events
            .iter()
            .position(|e| is_event(e, session, method))
        {
            return self.events.remove(i);
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let message = self.receive(deadline, method);
            if is_event(&message, session, method) {
                return message;
            }
            self.events.push(message);
        }
    }

    /// Open a new page and attach to it, with its console, log and network reported, at
    /// `width` × `height` CSS pixels; returns its session.
    pub fn open(&mut self, width: u32, height: u32) -> String {
        let target = self.call(None, "Target.createTarget", json!({ "url": "about:blank" }));
        let attached = self.call(
            None,
            "Target.attachToTarget",
            json!({ "targetId": target["targetId"], "flatten": true }),
        );
        let session = attached["sessionId"].as_str().unwrap().to_owned();
        for domain in ["Page", "Runtime", "Log", "Network"] {
            self.call(Some(&session), &format!("{domain}.enable"), json!({}));
        }
        self.call(
            Some(&session),
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false }),
        );
        session
    }

    /// Load `file` in `session` and wait until its load event (the new document's: a load
    /// event of the page before, about:blank's, may still be queued, so it is dropped first
    /// and the document's address is checked after).
    pub fn load(&mut self, session: &str, file: &Path, fragment: &str) {
        let url = format!("file://{}{fragment}", file.display());
        self.events
            .retain(|e| !is_event(e, session, "Page.loadEventFired"));
        self.call(Some(session), "Page.navigate", json!({ "url": url }));
        self.wait_for(session, "Page.loadEventFired");
        let deadline = Instant::now() + TIMEOUT;
        let loaded = "document.readyState === 'complete' ? location.href.split('#')[0] : ''";
        let document = format!("file://{}", file.display());
        while self.eval(session, loaded) != json!(document) {
            assert!(
                Instant::now() < deadline,
                "{url} did not load within {TIMEOUT:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Evaluate `expression` in `session` (awaiting a promise), and return its value; panics
    /// if it throws.
    pub fn eval(&mut self, session: &str, expression: &str) -> Value {
        let result = self.call(
            Some(session),
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
        );
        if let Some(e) = result.get("exceptionDetails") {
            panic!("{expression} threw: {e}");
        }
        result["result"]["value"].clone()
    }

    /// Press and release `key` (a DOM key name such as `ArrowRight`) in `session`.
    pub fn press(&mut self, session: &str, key: &str) {
        let code = match key {
            "ArrowLeft" => 37,
            "ArrowRight" => 39,
            "Home" => 36,
            "End" => 35,
            other => panic!("no key code for {other}"),
        };
        for kind in ["rawKeyDown", "keyUp"] {
            self.call(
                Some(session),
                "Input.dispatchKeyEvent",
                json!({ "type": kind, "key": key, "code": key, "windowsVirtualKeyCode": code }),
            );
        }
    }

    /// A PNG screenshot of `session`'s viewport, in front, once its fonts are loaded and two
    /// frames have been drawn since (a change of emulated media lays the page out again).
    pub fn screenshot(&mut self, session: &str) -> Vec<u8> {
        use base64::Engine as _;
        // A page behind another draws no frames: bring it to the front first.
        self.call(Some(session), "Page.bringToFront", json!({}));
        self.eval(
            session,
            "document.fonts.ready.then(() => new Promise((done) => \
             requestAnimationFrame(() => requestAnimationFrame(() => done(true)))))",
        );
        let shot = self.call(
            Some(session),
            "Page.captureScreenshot",
            json!({ "format": "png" }),
        );
        base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap()
    }

    /// Every console error, uncaught exception and error log entry of `session` so far, in
    /// words.
    pub fn errors(&self, session: &str) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| e.get("sessionId").and_then(Value::as_str) == Some(session))
            .filter_map(|e| {
                let p = &e["params"];
                match e["method"].as_str()? {
                    "Runtime.exceptionThrown" => {
                        Some(format!("exception: {}", p["exceptionDetails"]))
                    }
                    "Runtime.consoleAPICalled"
                        if matches!(p["type"].as_str(), Some("error" | "assert")) =>
                    {
                        Some(format!("console.{}: {}", p["type"], p["args"]))
                    }
                    "Log.entryAdded" if p["entry"]["level"] == "error" => {
                        Some(format!("log: {}", p["entry"]))
                    }
                    _ => None,
                }
            })
            .collect()
    }

    /// The URL of every request `session` made so far.
    pub fn requests(&self, session: &str) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| e.get("sessionId").and_then(Value::as_str) == Some(session))
            .filter(|e| e["method"] == "Network.requestWillBeSent")
            .map(|e| {
                e["params"]["request"]["url"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned()
            })
            .collect()
    }
}

fn is_event(message: &Value, session: &str, method: &str) -> bool {
    message.get("method").and_then(Value::as_str) == Some(method)
        && message.get("sessionId").and_then(Value::as_str) == Some(session)
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self
            .commands
            .write_all(b"{\"id\":0,\"method\":\"Browser.close\"}\0");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
