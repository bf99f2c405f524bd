//! `silos serve`: the classroom in the browser. A local web server (axum on tokio) whose
//! pages are embedded in the binary (no CDN, works offline), showing a lesson live on the
//! projector: the two arenas side by side with the same draws, the month's referrals and
//! dumping as arrows, live charts of the key numbers, the lesson's levers, and the same
//! narration as `silos teach`.
//!
//! The simulation runs here, in the server, through [`crate::teach::Live`]: the same arms,
//! streams and narration as `silos teach`, so the browser and the terminal give the same
//! numbers for the same seed and levers (tests/serve.rs). A lever changed in the browser
//! applies from the next month: the lesson is replayed with the lever's window opening
//! then (`levers.active_from`), which the page shows as the `silos teach` command that
//! gives the same run.
//!
//! Safety in a room: it binds to 127.0.0.1 unless `--lan`; every request body is limited
//! in size and parsed into typed messages, and a bad one gets a 4xx with a message; the
//! page can set only the lesson's own levers (never an arbitrary scenario field or a file
//! path); no file on the machine is served but the embedded assets; each lesson's run files
//! go to a temporary folder removed when the server stops.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

mod class;

pub use class::{MAX_CLASSES, qr_svg, qr_text};

use crate::overrides::Override;
use crate::teach::{self, Frame, Live, TeachOptions};

/// The page, its script and its style, embedded.
const INDEX_HTML: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const STYLE_CSS: &str = include_str!("assets/style.css");
const CLASS_HTML: &str = include_str!("assets/class.html");
const CLASS_JS: &str = include_str!("assets/class.js");
const JOIN_HTML: &str = include_str!("assets/join.html");
const JOIN_JS: &str = include_str!("assets/join.js");

/// Largest request body accepted (bytes).
pub const MAX_BODY: usize = 16 * 1024;
/// Live lessons kept at once; the least recently used is dropped past this.
pub const MAX_SESSIONS: usize = 32;
/// Most months one request may step.
pub const MAX_STEP: u32 = 120;
/// Longest lesson the browser may ask for, in months.
pub const MAX_TICKS: u32 = 600;

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Port; 0 picks a free one.
    pub port: u16,
    /// Listen on every interface (the room's network), not only this machine.
    pub lan: bool,
    /// Where participatory classes write their files (one folder per class).
    pub out: PathBuf,
}

/// A lever the page may set for a lesson: a scenario path and the values allowed.
#[derive(Debug, Clone, Serialize)]
pub struct Control {
    pub path: &'static str,
    pub label: &'static str,
    #[serde(flatten)]
    pub kind: ControlKind,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ControlKind {
    /// A number from `min` to `max` in steps of `step`; `off` means the lever is not pulled.
    Slider {
        min: f64,
        max: f64,
        step: f64,
        off: f64,
    },
    /// One of `options`; the first means the lever is not pulled.
    Choice { options: &'static [&'static str] },
}

/// The levers the page offers for each lesson (the lesson's own lever, as sliders and
/// switches).
pub fn controls(lesson: &str) -> Vec<Control> {
    match lesson {
        "free-riding" => vec![Control {
            path: "levers.host_reimbursement",
            label: "The centre reimburses this share of the host's costs",
            kind: ControlKind::Slider {
                min: 0.0,
                max: 1.0,
                step: 0.25,
                off: 0.0,
            },
        }],
        "dumping" => vec![
            Control {
                path: "levers.referral_inspection.detection",
                label: "Inspectors find this share of dumped referrals",
                kind: ControlKind::Slider {
                    min: 0.0,
                    max: 1.0,
                    step: 0.1,
                    off: 0.0,
                },
            },
            Control {
                path: "levers.referral_inspection.charge",
                label: "The sender pays this much for each one found (£k)",
                kind: ControlKind::Slider {
                    min: 0.0,
                    max: 5.0,
                    step: 0.5,
                    off: 0.0,
                },
            },
        ],
        "capture" => vec![Control {
            path: "levers.forum_rule",
            label: "How the forum weighs its members' votes on the agenda",
            kind: ControlKind::Choice {
                options: &["scenario", "equal_votes", "need_weighted", "rotating_chair"],
            },
        }],
        _ => Vec::new(),
    }
}

/// What the page sends to set the levers: control path -> value (a number or a name).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LeverRequest {
    set: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSession {
    lesson: String,
    seed: Option<u64>,
    ticks: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepRequest {
    months: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RestartRequest {
    seed: Option<u64>,
}

/// A live lesson and what it has shown.
struct Session {
    lesson: &'static str,
    seed: Option<u64>,
    ticks: Option<u32>,
    /// The levers pulled (`path=value`), in force from month `from`.
    levers: Vec<String>,
    from: u32,
    live: Live,
    frames: Vec<Frame>,
    narration: Vec<String>,
    dir: PathBuf,
    last_used: u64,
}

impl Session {
    fn options(&self) -> TeachOptions {
        opts(&self.dir, self.seed, self.ticks, &self.levers, self.from)
    }

    /// Run `months` more months; returns the frames and narration they added.
    fn step(&mut self, months: u32) -> Result<(Vec<Frame>, Vec<String>), ApiError> {
        let mut frames = Vec::new();
        let mut said = Vec::new();
        for _ in 0..months {
            if self.live.done() {
                break;
            }
            let closed = self.live.step().map_err(ApiError::internal)?;
            let f = self.live.frame();
            self.frames.push(f.clone());
            frames.push(f);
            if let Some(p) = closed {
                let t = self.live.period_text(p).map_err(ApiError::internal)?;
                self.narration.push(t.clone());
                said.push(t);
            }
        }
        Ok((frames, said))
    }

    /// Build the lesson afresh with the current settings and replay it to month `to`.
    fn rebuild(&mut self, to: u32) -> Result<(), ApiError> {
        let _ = std::fs::remove_dir_all(&self.dir);
        self.live = Live::new(self.lesson, &self.options()).map_err(ApiError::bad)?;
        self.frames.clear();
        self.narration.clear();
        self.step(to)?;
        Ok(())
    }

    /// The `silos teach` command that gives this lesson's run.
    fn command(&self) -> String {
        let mut c = format!("silos teach {} --seed {}", self.lesson, self.live.seed());
        if let Some(t) = self.ticks {
            c.push_str(&format!(" --ticks {t}"));
        }
        for o in self.live.overrides() {
            c.push_str(&format!(" --set '{o}'"));
        }
        c
    }

    fn state(&self, id: u64) -> SessionState {
        SessionState {
            id,
            lesson: self.lesson,
            seed: self.live.seed(),
            tick: self.live.tick(),
            ticks: self.live.ticks(),
            levers: self.levers.clone(),
            levers_from: (!self.levers.is_empty()).then_some(self.from),
            command: self.command(),
            controls: controls(self.lesson),
            intro: self.live.intro_text().unwrap_or_default(),
            frames: self.frames.clone(),
            narration: self.narration.clone(),
        }
    }
}

fn opts(
    dir: &std::path::Path,
    seed: Option<u64>,
    ticks: Option<u32>,
    levers: &[String],
    from: u32,
) -> TeachOptions {
    let mut overrides: Vec<Override> = levers
        .iter()
        .filter_map(|l| Override::parse(l).ok())
        .collect();
    if !overrides.is_empty() && from > 1 {
        overrides.extend(Override::parse(&format!("levers.active_from={from}")).ok());
    }
    TeachOptions {
        overrides,
        step: false,
        out_dir: dir.to_path_buf(),
        seed,
        ticks,
        charts: false,
        scenario: None,
    }
}

/// Everything the page needs to draw a lesson from scratch.
#[derive(Debug, Serialize)]
struct SessionState {
    id: u64,
    lesson: &'static str,
    seed: u64,
    tick: u32,
    ticks: u32,
    levers: Vec<String>,
    levers_from: Option<u32>,
    command: String,
    controls: Vec<Control>,
    intro: String,
    frames: Vec<Frame>,
    narration: Vec<String>,
}

#[derive(Debug, Serialize)]
struct StepReply {
    tick: u32,
    frames: Vec<Frame>,
    narration: Vec<String>,
}

/// The server's state: live lessons by id, and the folder their run files go to.
struct Server {
    sessions: Mutex<Sessions>,
    root: tempfile::TempDir,
    classes: Mutex<class::Classes>,
    /// Where classes write their files.
    out: PathBuf,
    /// The address students open (`http://HOST:PORT`), for join links and QR codes.
    join_base: String,
}

struct Sessions {
    next_id: u64,
    clock: u64,
    by_id: BTreeMap<u64, Session>,
}

type Shared = Arc<Server>;

/// An error for the page: an HTTP status and a message saying what to do.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn status(status: StatusCode, message: impl std::fmt::Display) -> ApiError {
        ApiError {
            status,
            message: message.to_string(),
        }
    }
    fn bad(e: impl std::fmt::Display) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: e.to_string(),
        }
    }
    fn not_found(what: impl std::fmt::Display) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            message: what.to_string(),
        }
    }
    fn internal(e: impl std::fmt::Display) -> ApiError {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: e.to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            axum::Json(serde_json::json!({ "error": self.message })),
        )
            .into_response()
    }
}

/// A JSON body, with the parse error (which field, what was wrong) sent back as a 400.
struct Body<T>(T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequest<S> for Body<T> {
    type Rejection = ApiError;
    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError {
                status: e.status(),
                message: format!("request body: {}", e.body_text()),
            })?;
        serde_json::from_slice(&bytes)
            .map(Body)
            .map_err(|e| ApiError::bad(format!("request body: {e}")))
    }
}

fn lessons_json() -> serde_json::Value {
    serde_json::Value::Array(
        teach::lessons()
            .iter()
            .map(|l| {
                let agencies: Vec<serde_json::Value> =
                    crate::scenario::Scenario::from_toml_str(l.scenario, l.file)
                        .map(|s| {
                            s.agencies
                                .iter()
                                .map(|a| serde_json::json!({"name": a.name, "label": a.label}))
                                .collect()
                        })
                        .unwrap_or_default();
                serde_json::json!({
                    "name": l.name,
                    "title": l.title,
                    "summary": l.summary,
                    "lever": l.lever,
                    "lever_meaning": l.lever_meaning,
                    "controls": controls(l.name),
                    "agencies": agencies,
                })
            })
            .collect(),
    )
}

/// Run `f` on session `id` on a blocking thread (the model runs there, not on the
/// server's event loop).
async fn with_session<R: Send + 'static>(
    s: Shared,
    id: u64,
    f: impl FnOnce(&mut Session, u64) -> Result<R, ApiError> + Send + 'static,
) -> Result<R, ApiError> {
    tokio::task::spawn_blocking(move || {
        let mut all = s.sessions.lock().map_err(|_| ApiError::internal("lock"))?;
        all.clock += 1;
        let now = all.clock;
        let sess = all.by_id.get_mut(&id).ok_or_else(|| {
            ApiError::not_found(format!("no lesson {id}: start one from the list"))
        })?;
        sess.last_used = now;
        f(sess, id)
    })
    .await
    .map_err(ApiError::internal)?
}

async fn create(
    State(s): State<Shared>,
    Body(req): Body<NewSession>,
) -> Result<Response, ApiError> {
    let lesson = teach::lesson(&req.lesson).map_err(ApiError::bad)?;
    if let Some(t) = req.ticks
        && !(1..=MAX_TICKS).contains(&t)
    {
        return Err(ApiError::bad(format!(
            "ticks: {t} is not allowed; a lesson runs from 1 to {MAX_TICKS} months"
        )));
    }
    let state = tokio::task::spawn_blocking(move || -> Result<SessionState, ApiError> {
        let mut all = s.sessions.lock().map_err(|_| ApiError::internal("lock"))?;
        let id = all.next_id;
        all.next_id += 1;
        all.clock += 1;
        let dir = s.root.path().join(format!("lesson-{id}"));
        let live = Live::new(lesson.name, &opts(&dir, req.seed, req.ticks, &[], 1))
            .map_err(ApiError::bad)?;
        let sess = Session {
            lesson: lesson.name,
            seed: req.seed,
            ticks: req.ticks,
            levers: Vec::new(),
            from: 1,
            live,
            frames: Vec::new(),
            narration: Vec::new(),
            dir,
            last_used: all.clock,
        };
        let state = sess.state(id);
        all.by_id.insert(id, sess);
        while all.by_id.len() > MAX_SESSIONS {
            let oldest = all
                .by_id
                .iter()
                .min_by_key(|(_, v)| v.last_used)
                .map(|(k, _)| *k);
            if let Some(k) = oldest
                && let Some(old) = all.by_id.remove(&k)
            {
                let _ = std::fs::remove_dir_all(old.dir);
            }
        }
        Ok(state)
    })
    .await
    .map_err(ApiError::internal)??;
    Ok((StatusCode::CREATED, axum::Json(state)).into_response())
}

async fn show(State(s): State<Shared>, UrlPath(id): UrlPath<u64>) -> Result<Response, ApiError> {
    let st = with_session(s, id, |sess, id| Ok(sess.state(id))).await?;
    Ok(axum::Json(st).into_response())
}

async fn step(
    State(s): State<Shared>,
    UrlPath(id): UrlPath<u64>,
    Body(req): Body<StepRequest>,
) -> Result<Response, ApiError> {
    if !(1..=MAX_STEP).contains(&req.months) {
        return Err(ApiError::bad(format!(
            "months: {} is not allowed; step 1 to {MAX_STEP} months at a time",
            req.months
        )));
    }
    let r = with_session(s, id, move |sess, _| {
        let (frames, narration) = sess.step(req.months)?;
        Ok(StepReply {
            tick: sess.live.tick(),
            frames,
            narration,
        })
    })
    .await?;
    Ok(axum::Json(r).into_response())
}

async fn restart(
    State(s): State<Shared>,
    UrlPath(id): UrlPath<u64>,
    Body(req): Body<RestartRequest>,
) -> Result<Response, ApiError> {
    let st = with_session(s, id, move |sess, id| {
        sess.seed = req.seed;
        sess.levers.clear();
        sess.from = 1;
        sess.rebuild(0)?;
        Ok(sess.state(id))
    })
    .await?;
    Ok(axum::Json(st).into_response())
}

/// Check the page's lever settings against the lesson's controls and turn them into
/// `path=value` overrides (a lever at its "off" value is left out).
pub fn lever_overrides(
    lesson: &str,
    set: &BTreeMap<String, serde_json::Value>,
) -> Result<Vec<String>, String> {
    let cs = controls(lesson);
    let mut out = Vec::new();
    for (path, v) in set {
        let Some(c) = cs.iter().find(|c| c.path == path) else {
            let allowed: Vec<&str> = cs.iter().map(|c| c.path).collect();
            return Err(format!(
                "set.{path}: not a lever of lesson {lesson}; its levers are: {}",
                allowed.join(", ")
            ));
        };
        match &c.kind {
            ControlKind::Slider {
                min,
                max,
                step,
                off,
            } => {
                let x = v.as_f64().filter(|x| x.is_finite()).ok_or_else(|| {
                    format!("set.{path}: {v} is not a number; allowed: {min} to {max}")
                })?;
                let k = ((x - min) / step).round();
                if x < *min || x > *max || (x - (min + k * step)).abs() > 1e-9 {
                    return Err(format!(
                        "set.{path}: {x} is not allowed; allowed: {min} to {max} in steps of {step}"
                    ));
                }
                if x != *off {
                    out.push(format!("{path}={x}"));
                }
            }
            ControlKind::Choice { options } => {
                let name = v.as_str().unwrap_or_default();
                if !options.contains(&name) {
                    return Err(format!(
                        "set.{path}: {v} is not allowed; allowed: {}",
                        options.join(", ")
                    ));
                }
                if name != options[0] {
                    out.push(format!("{path}={name}"));
                }
            }
        }
    }
    Ok(out)
}

async fn levers(
    State(s): State<Shared>,
    UrlPath(id): UrlPath<u64>,
    Body(req): Body<LeverRequest>,
) -> Result<Response, ApiError> {
    let st = with_session(s, id, move |sess, id| {
        let levers = lever_overrides(sess.lesson, &req.set).map_err(ApiError::bad)?;
        let now = sess.live.tick();
        if now >= sess.live.ticks() {
            return Err(ApiError::bad(
                "the lesson has ended; restart it to try a lever from the start",
            ));
        }
        sess.levers = levers;
        sess.from = now + 1;
        sess.rebuild(now)?;
        Ok(sess.state(id))
    })
    .await?;
    Ok(axum::Json(st).into_response())
}

fn asset(kind: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// The application: routes and limits, and the classes' round timer (spawned on the
/// current runtime).
fn app(out: PathBuf, join_base: String) -> Result<(Router, Shared), String> {
    let root = tempfile::Builder::new()
        .prefix("silos-serve-")
        .tempdir()
        .map_err(|e| format!("cannot make a temporary folder for the lessons' runs: {e}"))?;
    let state: Shared = Arc::new(Server {
        sessions: Mutex::new(Sessions {
            next_id: 1,
            clock: 0,
            by_id: BTreeMap::new(),
        }),
        root,
        classes: Mutex::new(class::Classes::default()),
        out,
        join_base,
    });
    let shared = state.clone();
    Ok((
        Router::new()
            .route(
                "/",
                get(|| async { asset("text/html; charset=utf-8", INDEX_HTML) }),
            )
            .route(
                "/app.js",
                get(|| async { asset("text/javascript; charset=utf-8", APP_JS) }),
            )
            .route(
                "/style.css",
                get(|| async { asset("text/css; charset=utf-8", STYLE_CSS) }),
            )
            .route(
                "/class",
                get(|| async { asset("text/html; charset=utf-8", CLASS_HTML) }),
            )
            .route(
                "/class.js",
                get(|| async { asset("text/javascript; charset=utf-8", CLASS_JS) }),
            )
            .route(
                "/join",
                get(|| async { asset("text/html; charset=utf-8", JOIN_HTML) }),
            )
            .route(
                "/join.js",
                get(|| async { asset("text/javascript; charset=utf-8", JOIN_JS) }),
            )
            .route("/api/lessons", get(|| async { axum::Json(lessons_json()) }))
            .route("/api/classes", post(class::create))
            .route("/api/classes/{id}", get(class::show))
            .route("/api/classes/{id}/kick", post(class::kick))
            .route("/api/classes/{id}/log/{file}", get(class::log))
            .route("/api/classes/{id}/{action}", post(class::control))
            .route("/api/join", post(class::join))
            .route("/api/seat", get(class::seat))
            .route("/api/seat/orders", post(class::orders))
            .route("/api/sessions", post(create))
            .route("/api/sessions/{id}", get(show))
            .route("/api/sessions/{id}/step", post(step))
            .route("/api/sessions/{id}/restart", post(restart))
            .route("/api/sessions/{id}/levers", post(levers))
            .fallback(|| async { ApiError::not_found("no such page") })
            .layer(DefaultBodyLimit::max(MAX_BODY))
            .with_state(state),
        shared,
    ))
}

/// A running server: its address, and a handle that stops it when dropped.
pub struct Handle {
    pub addr: SocketAddr,
    /// The address students open: `http://HOST:PORT` (this machine's address on the room's
    /// network with `--lan`).
    pub join_base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn bind_addr(opts: &ServeOptions) -> SocketAddr {
    let ip = if opts.lan {
        std::net::Ipv4Addr::UNSPECIFIED
    } else {
        std::net::Ipv4Addr::LOCALHOST
    };
    SocketAddr::from((ip, opts.port))
}

/// This machine's address on the local network: the source address the system would use to
/// reach outside (a UDP "connect" sends nothing). 127.0.0.1 if there is no network.
pub fn lan_address() -> std::net::IpAddr {
    std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|u| {
            u.connect("192.0.2.1:9")?;
            u.local_addr()
        })
        .map(|a| a.ip())
        .ok()
        .filter(|ip| !ip.is_unspecified())
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
}

/// Start the server on a background thread; it stops when the handle is dropped.
pub fn spawn(opts: &ServeOptions) -> Result<Handle, String> {
    let addr = bind_addr(opts);
    let listener =
        std::net::TcpListener::bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("{addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| format!("{addr}: {e}"))?;
    let join_base = format!(
        "http://{}:{}",
        if opts.lan {
            lan_address().to_string()
        } else {
            "127.0.0.1".to_string()
        },
        local.port()
    );
    let (app, shared) = app(opts.out.clone(), join_base.clone())?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("silos serve: cannot start: {e}");
                return;
            }
        };
        rt.block_on(async move {
            tokio::spawn(class::timer(shared));
            let Ok(l) = tokio::net::TcpListener::from_std(listener) else {
                eprintln!("silos serve: cannot use the listening socket");
                return;
            };
            let _ = axum::serve(l, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await;
        });
    });
    Ok(Handle {
        addr: local,
        join_base,
        stop: Some(tx),
        thread: Some(thread),
    })
}

/// Serve until Ctrl-C, printing the address to open.
pub fn run(opts: &ServeOptions) -> Result<(), String> {
    let handle = spawn(opts)?;
    let port = handle.addr.port();
    println!(
        "silos serve: live lessons at http://127.0.0.1:{port}/ ; a class where students play \
         the agencies at http://127.0.0.1:{port}/class (Ctrl-C stops the server)"
    );
    println!(
        "silos serve: classes write their decision logs under {}",
        opts.out.display()
    );
    if opts.lan {
        let join = format!("{}/join", handle.join_base);
        println!(
            "silos serve: listening on the room's network. Students open {join} (or scan the \
             code below) and type the class's join code, shown on the class page."
        );
        println!("{}", qr_text(&join));
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    println!("silos serve: stopped");
    drop(handle);
    Ok(())
}
