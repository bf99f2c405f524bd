//! Participatory classes over HTTP: join codes, seats with per-seat tokens, the round timer,
//! the teacher's controls (start, pause, resume, end the round now, kick a seat back to the
//! bot, end the class), rate limits. The model side is [`crate::teach::class`].
//!
//! Who may do what:
//! - the teacher holds the class's teacher token (returned when the class is made) and only
//!   it may start, pause, resume, close a round, kick, end, or read the class's logs;
//! - a student holds a seat token (returned when they join with the code) and may only read
//!   their seat's view and send their seat's orders;
//! - tokens are 128 random bits from the operating system, sent in the `x-silos-token`
//!   header; a kicked seat's token stops working at once.
//!
//! Every message is parsed into a typed request that refuses unknown fields, checked by
//! `Class::check_orders` (field, value, what is allowed), and limited in size (the server's
//! body limit) and rate (a token bucket per seat, and one for join attempts). A round closes
//! when its timer runs out, when every seated student has sent orders, or when the teacher
//! closes it; the months run on a blocking thread, never on the event loop.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::{ApiError, Body, Shared};
use crate::overrides::Override;
use crate::scenario::Family;
use crate::teach::class::{Class, ClassFrame, ClassOptions, Debrief, OrdersInput, SeatView};

/// Classes kept at once; past this, the one that ended first is forgotten (its files stay).
pub const MAX_CLASSES: usize = 16;
/// Shortest and longest round timer (seconds).
pub const ROUND_SECONDS: (u32, u32) = (10, 1800);
/// Longest student name.
pub const MAX_NAME: usize = 40;
/// A seat's messages: a burst of this many, then this many a second.
pub const SEAT_BURST: f64 = 20.0;
pub const SEAT_RATE: f64 = 5.0;
/// Join attempts over the whole server: a burst, then a rate.
pub const JOIN_BURST: f64 = 120.0;
pub const JOIN_RATE: f64 = 20.0;

/// The letters of a join code (no 0/O, 1/I/L).
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const CODE_LEN: usize = 6;

/// A token bucket.
#[derive(Debug, Clone)]
struct Bucket {
    level: f64,
    at: Instant,
    burst: f64,
    rate: f64,
}

impl Bucket {
    fn new(burst: f64, rate: f64) -> Bucket {
        Bucket {
            level: burst,
            at: Instant::now(),
            burst,
            rate,
        }
    }

    /// Take one; false if the bucket is empty.
    fn take(&mut self) -> bool {
        let now = Instant::now();
        let dt = now.duration_since(self.at).as_secs_f64();
        self.at = now;
        self.level = (self.level + dt * self.rate).min(self.burst);
        if self.level >= 1.0 {
            self.level -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Where a class is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// Students are joining; no round has opened.
    Lobby,
    /// A round is open until `deadline`.
    Open {
        deadline: Instant,
    },
    /// A round is open with `left` on its timer, stopped.
    Paused {
        left: Duration,
    },
    Ended,
}

/// A student's seat.
#[derive(Debug, Clone)]
struct SeatKey {
    class: u64,
    town: usize,
    agency: usize,
}

/// One class and its timer.
pub(super) struct Room {
    class: Class,
    code: String,
    teacher: String,
    round_seconds: u32,
    phase: Phase,
    /// Seat tokens of this class, by (town, agency), to revoke them.
    tokens: BTreeMap<(usize, usize), String>,
    debrief: Option<Debrief>,
    /// How long each round took to run once closed (ms), for the load test and the page.
    round_ms: Vec<f64>,
    error: Option<String>,
}

/// Every class, its codes and its tokens.
#[derive(Default)]
pub(super) struct Classes {
    next_id: u64,
    by_id: BTreeMap<u64, Arc<Mutex<Room>>>,
    codes: HashMap<String, u64>,
    seats: HashMap<String, SeatKey>,
    buckets: HashMap<String, Bucket>,
    joins: Option<Bucket>,
}

impl Classes {
    /// Forget the class that ended first (its files are already on disk), with its code and
    /// tokens. False if no class has ended. Rooms are only tried (`try_lock`): the lock order
    /// elsewhere is room, then classes.
    fn forget_oldest_ended(&mut self) -> bool {
        let ended = self
            .by_id
            .iter()
            .find(|(_, r)| r.try_lock().is_ok_and(|r| r.phase == Phase::Ended))
            .map(|(id, _)| *id);
        let Some(id) = ended else { return false };
        self.by_id.remove(&id);
        self.codes.retain(|_, v| *v != id);
        let gone: Vec<String> = self
            .seats
            .iter()
            .filter(|(_, k)| k.class == id)
            .map(|(t, _)| t.clone())
            .collect();
        for t in gone {
            self.seats.remove(&t);
            self.buckets.remove(&t);
        }
        true
    }
}

/// Random bytes from the operating system, as text from `alphabet`.
fn random_text(alphabet: &[u8], len: usize) -> Result<String, ApiError> {
    let mut buf = vec![0u8; len];
    getrandom::fill(&mut buf).map_err(|e| ApiError::internal(format!("no randomness: {e}")))?;
    Ok(buf
        .iter()
        .map(|b| alphabet[*b as usize % alphabet.len()] as char)
        .collect())
}

fn token() -> Result<String, ApiError> {
    random_text(b"0123456789abcdef", 32)
}

fn teacher_of(r: &Room, h: &HeaderMap) -> Result<(), ApiError> {
    match h.get("x-silos-token").and_then(|v| v.to_str().ok()) {
        Some(t) if t == r.teacher => Ok(()),
        Some(_) => Err(ApiError::status(
            StatusCode::FORBIDDEN,
            "x-silos-token: not this class's teacher token",
        )),
        None => Err(ApiError::status(
            StatusCode::UNAUTHORIZED,
            "x-silos-token: missing; the teacher's page sends the token it was given when the \
             class was made",
        )),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewClass {
    lesson: String,
    seed: Option<u64>,
    ticks: Option<u32>,
    /// "ra" or "bp": the bots' family.
    bot: Option<String>,
    /// Agencies students may play (default: all).
    seats: Option<Vec<String>>,
    /// Towns to open now (more open as students join before the first round).
    towns: Option<usize>,
    round_seconds: Option<u32>,
    /// The lesson's levers, as on the live page.
    #[serde(default)]
    set: BTreeMap<String, serde_json::Value>,
    /// Peer sanctions on: members may fine a partner they resent ([`SANCTIONS`]).
    #[serde(default)]
    sanctions: bool,
}

/// The peer-sanctions lever a class turns on with `sanctions: true`: a fine of £2k on the
/// sanctioned, at a cost of £0.5k to the sanctioner.
pub const SANCTIONS: &str = "levers.sanctions={ fine = 2.0, cost = 0.5 }";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct JoinRequest {
    code: String,
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct KickRequest {
    town: usize,
    agency: String,
}

/// What the teacher's page draws.
#[derive(Debug, Serialize)]
struct ClassState {
    id: u64,
    code: String,
    join_url: String,
    qr_svg: String,
    phase: &'static str,
    /// Time left on the open round's timer (ms).
    left_ms: Option<u64>,
    round_seconds: u32,
    command_note: String,
    frame: ClassFrame,
    debrief: Option<Debrief>,
    round_ms: Vec<f64>,
    error: Option<String>,
    out_dir: String,
    /// Sent once, to the page that made the class.
    #[serde(skip_serializing_if = "Option::is_none")]
    teacher_token: Option<String>,
}

/// What a student's page draws.
#[derive(Debug, Serialize)]
struct SeatState {
    phase: &'static str,
    left_ms: Option<u64>,
    view: SeatView,
    /// The class's debrief row for this seat, once the class has ended.
    debrief: Option<serde_json::Value>,
}

fn phase_name(p: &Phase) -> &'static str {
    match p {
        Phase::Lobby => "lobby",
        Phase::Open { .. } => "open",
        Phase::Paused { .. } => "paused",
        Phase::Ended => "ended",
    }
}

fn left_ms(p: &Phase) -> Option<u64> {
    match p {
        Phase::Open { deadline } => Some(
            deadline
                .saturating_duration_since(Instant::now())
                .as_millis() as u64,
        ),
        Phase::Paused { left } => Some(left.as_millis() as u64),
        _ => None,
    }
}

impl Room {
    fn state(&self, id: u64, join_base: &str) -> ClassState {
        let url = format!("{join_base}/join?code={}", self.code);
        ClassState {
            id,
            code: self.code.clone(),
            qr_svg: qr_svg(&url),
            join_url: url,
            phase: phase_name(&self.phase),
            left_ms: left_ms(&self.phase),
            round_seconds: self.round_seconds,
            command_note: format!(
                "seed {}, bots {}, {} round(s) of {} months",
                self.class.seed(),
                self.class.bot().as_str(),
                self.class.n_rounds(),
                crate::teach::class::ROUND_TICKS
            ),
            frame: self.class.frame(),
            debrief: self.debrief.clone(),
            round_ms: self.round_ms.clone(),
            error: self.error.clone(),
            out_dir: self.class.out_dir().display().to_string(),
            teacher_token: None,
        }
    }

    fn open_round(&mut self) {
        self.phase = Phase::Open {
            deadline: Instant::now() + Duration::from_secs(self.round_seconds as u64),
        };
    }

    /// Close the open round: run its months; open the next, or end the class.
    fn close_round(&mut self) {
        if !matches!(self.phase, Phase::Open { .. } | Phase::Paused { .. }) {
            return;
        }
        let t0 = Instant::now();
        match self.class.play_round() {
            Ok(_) => self.round_ms.push(t0.elapsed().as_secs_f64() * 1e3),
            Err(e) => {
                self.error = Some(format!("the round could not run: {e}"));
                self.end();
                return;
            }
        }
        if self.class.done() {
            self.end();
        } else {
            self.open_round();
        }
    }

    fn end(&mut self) {
        if self.phase == Phase::Ended {
            return;
        }
        self.phase = Phase::Ended;
        match self.class.finish() {
            Ok(d) => self.debrief = Some(d),
            Err(e) => {
                self.error = Some(format!("the class's files could not be written: {e}"));
                self.debrief = Some(self.class.debrief());
            }
        }
    }

    /// Close the round early when every seated student has sent orders.
    fn close_if_all_ready(&mut self) {
        if let Phase::Open { .. } = self.phase {
            let (seated, ready) = self.class.readiness();
            if seated > 0 && ready == seated {
                self.close_round();
            }
        }
    }
}

/// The QR code of `url` as an SVG element.
pub fn qr_svg(url: &str) -> String {
    match qrcode::QrCode::new(url.as_bytes()) {
        Ok(c) => c
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
        Err(_) => String::new(),
    }
}

/// The QR code of `url` drawn with text blocks, for the terminal.
pub fn qr_text(url: &str) -> String {
    match qrcode::QrCode::new(url.as_bytes()) {
        Ok(c) => c
            .render::<qrcode::render::unicode::Dense1x2>()
            .dark_color(qrcode::render::unicode::Dense1x2::Light)
            .light_color(qrcode::render::unicode::Dense1x2::Dark)
            .quiet_zone(true)
            .build(),
        Err(_) => String::new(),
    }
}

fn room_of(s: &Shared, id: u64) -> Result<Arc<Mutex<Room>>, ApiError> {
    let all = s.classes.lock().map_err(|_| ApiError::internal("lock"))?;
    all.by_id
        .get(&id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("no class {id}: make one from the class page")))
}

fn lock(r: &Arc<Mutex<Room>>) -> Result<std::sync::MutexGuard<'_, Room>, ApiError> {
    r.lock().map_err(|_| ApiError::internal("lock"))
}

pub(super) async fn create(
    State(s): State<Shared>,
    Body(req): Body<NewClass>,
) -> Result<Response, ApiError> {
    let lesson = crate::teach::lesson(&req.lesson).map_err(ApiError::bad)?;
    let bot = match req.bot.as_deref() {
        None => Family::Bp,
        Some(b) => Family::parse(b).ok_or_else(|| {
            ApiError::bad(format!(
                "bot: \"{b}\" is not allowed; allowed: \"ra\", \"bp\""
            ))
        })?,
    };
    let secs = req.round_seconds.unwrap_or(90);
    if !(ROUND_SECONDS.0..=ROUND_SECONDS.1).contains(&secs) {
        return Err(ApiError::bad(format!(
            "round_seconds: {secs} is not allowed; allowed: {} to {}",
            ROUND_SECONDS.0, ROUND_SECONDS.1
        )));
    }
    if let Some(t) = req.ticks
        && !(1..=super::MAX_TICKS).contains(&t)
    {
        return Err(ApiError::bad(format!(
            "ticks: {t} is not allowed; a lesson runs from 1 to {} months",
            super::MAX_TICKS
        )));
    }
    let towns = req.towns.unwrap_or(1);
    if !(1..=crate::teach::class::MAX_TOWNS).contains(&towns) {
        return Err(ApiError::bad(format!(
            "towns: {towns} is not allowed; allowed: 1 to {}",
            crate::teach::class::MAX_TOWNS
        )));
    }
    let mut levers = super::lever_overrides(lesson.name, &req.set).map_err(ApiError::bad)?;
    if req.sanctions {
        levers.push(SANCTIONS.to_string());
    }
    let overrides = levers
        .iter()
        .map(|l| Override::parse(l).map_err(ApiError::bad))
        .collect::<Result<Vec<_>, _>>()?;
    let code = {
        let mut all = s.classes.lock().map_err(|_| ApiError::internal("lock"))?;
        if all.by_id.len() >= MAX_CLASSES && !all.forget_oldest_ended() {
            return Err(ApiError::status(
                StatusCode::CONFLICT,
                format!(
                    "this server already runs {MAX_CLASSES} classes that have not ended; end one \
                     (its files stay on disk) or restart the server"
                ),
            ));
        }
        let mut c = random_text(CODE_ALPHABET, CODE_LEN)?;
        while all.codes.contains_key(&c) {
            c = random_text(CODE_ALPHABET, CODE_LEN)?;
        }
        c
    };
    let teacher = token()?;
    let out_dir = s.out.join(format!("{}-{}", lesson.name, code));
    let opts = ClassOptions {
        lesson: lesson.name.to_string(),
        seed: req.seed,
        ticks: req.ticks,
        bot,
        seats: req.seats,
        overrides,
        out_dir,
    };
    let s2 = s.clone();
    let state = tokio::task::spawn_blocking(move || -> Result<ClassState, ApiError> {
        let mut class = Class::new(&opts).map_err(ApiError::bad)?;
        for _ in 0..towns {
            class.add_town().map_err(ApiError::bad)?;
        }
        let room = Room {
            class,
            code: code.clone(),
            teacher,
            round_seconds: secs,
            phase: Phase::Lobby,
            tokens: BTreeMap::new(),
            debrief: None,
            round_ms: Vec::new(),
            error: None,
        };
        let mut all = s2.classes.lock().map_err(|_| ApiError::internal("lock"))?;
        all.next_id += 1;
        let id = all.next_id;
        let mut st = room.state(id, &s2.join_base);
        st.teacher_token = Some(room.teacher.clone());
        all.codes.insert(code, id);
        all.by_id.insert(id, Arc::new(Mutex::new(room)));
        Ok(st)
    })
    .await
    .map_err(ApiError::internal)??;
    Ok((StatusCode::CREATED, axum::Json(state)).into_response())
}

pub(super) async fn show(
    State(s): State<Shared>,
    UrlPath(id): UrlPath<u64>,
    h: HeaderMap,
) -> Result<Response, ApiError> {
    let room = room_of(&s, id)?;
    let st = tokio::task::spawn_blocking(move || -> Result<ClassState, ApiError> {
        let r = lock(&room)?;
        teacher_of(&r, &h)?;
        Ok(r.state(id, &s.join_base))
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(axum::Json(st).into_response())
}

/// A teacher's control: start, pause, resume, next (close the round now), end.
pub(super) async fn control(
    State(s): State<Shared>,
    UrlPath((id, action)): UrlPath<(u64, String)>,
    h: HeaderMap,
) -> Result<Response, ApiError> {
    let room = room_of(&s, id)?;
    let st = tokio::task::spawn_blocking(move || -> Result<ClassState, ApiError> {
        let mut r = lock(&room)?;
        teacher_of(&r, &h)?;
        let bad = |what: &str| {
            Err(ApiError::status(
                StatusCode::CONFLICT,
                format!("{action}: {what}"),
            ))
        };
        match (action.as_str(), r.phase) {
            ("start", Phase::Lobby) => r.open_round(),
            ("start", _) => return bad("the class has already started"),
            ("pause", Phase::Open { deadline }) => {
                r.phase = Phase::Paused {
                    left: deadline.saturating_duration_since(Instant::now()),
                }
            }
            ("pause", _) => return bad("no round is running"),
            ("resume", Phase::Paused { left }) => {
                r.phase = Phase::Open {
                    deadline: Instant::now() + left,
                };
                // Orders may have come in while paused: everyone may be done.
                r.close_if_all_ready();
            }
            ("resume", _) => return bad("the class is not paused"),
            ("next", Phase::Open { .. } | Phase::Paused { .. }) => r.close_round(),
            ("next", _) => return bad("no round is open"),
            ("end", Phase::Ended) => return bad("the class has already ended"),
            ("end", _) => r.end(),
            (other, _) => {
                return Err(ApiError::not_found(format!(
                    "{other}: not a control; the controls are start, pause, resume, next, end"
                )));
            }
        }
        Ok(r.state(id, &s.join_base))
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(axum::Json(st).into_response())
}

/// The teacher gives a seat back to the bot; the student's token stops working.
pub(super) async fn kick(
    State(s): State<Shared>,
    UrlPath(id): UrlPath<u64>,
    h: HeaderMap,
    Body(req): Body<KickRequest>,
) -> Result<Response, ApiError> {
    let room = room_of(&s, id)?;
    let s2 = s.clone();
    let st = tokio::task::spawn_blocking(move || -> Result<ClassState, ApiError> {
        let mut r = lock(&room)?;
        teacher_of(&r, &h)?;
        if r.phase == Phase::Ended {
            // Students keep their seats, and so their debrief rows, after the end.
            return Err(ApiError::status(
                StatusCode::CONFLICT,
                "kick: the class has ended",
            ));
        }
        let t = req
            .town
            .checked_sub(1)
            .filter(|&t| t < r.class.n_towns())
            .ok_or_else(|| {
                ApiError::bad(format!(
                    "town: {} is not allowed; allowed: 1 to {}",
                    req.town,
                    r.class.n_towns()
                ))
            })?;
        let i = r
            .class
            .seats()
            .iter()
            .copied()
            .find(|&i| r.class.agency_name(i) == req.agency)
            .ok_or_else(|| {
                ApiError::bad(format!(
                    "agency: \"{}\" is not a seat of this class",
                    req.agency
                ))
            })?;
        r.class.unseat(t, i);
        if let Some(tok) = r.tokens.remove(&(t, i))
            && let Ok(mut all) = s2.classes.lock()
        {
            all.seats.remove(&tok);
            all.buckets.remove(&tok);
        }
        r.close_if_all_ready();
        Ok(r.state(id, &s2.join_base))
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(axum::Json(st).into_response())
}

/// A class's log, for the teacher: `decisions.csv` or `rounds.csv`.
pub(super) async fn log(
    State(s): State<Shared>,
    UrlPath((id, file)): UrlPath<(u64, String)>,
    h: HeaderMap,
) -> Result<Response, ApiError> {
    if file != "decisions.csv" && file != "rounds.csv" {
        return Err(ApiError::not_found(format!(
            "{file}: the class's logs are decisions.csv and rounds.csv"
        )));
    }
    let room = room_of(&s, id)?;
    let path: PathBuf = {
        let r = lock(&room)?;
        teacher_of(&r, &h)?;
        r.class.out_dir().join(&file)
    };
    let text = tokio::fs::read_to_string(&path).await.unwrap_or_default();
    Ok((
        [(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        text,
    )
        .into_response())
}

fn check_name(name: &str) -> Result<String, ApiError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > MAX_NAME || n.chars().any(char::is_control) {
        return Err(ApiError::bad(format!(
            "name: {name:?} is not allowed; give 1 to {MAX_NAME} characters, no line breaks"
        )));
    }
    Ok(n.to_string())
}

/// A student joins with the class's code and a name, and is given a seat and its token.
pub(super) async fn join(
    State(s): State<Shared>,
    Body(req): Body<JoinRequest>,
) -> Result<Response, ApiError> {
    let name = check_name(&req.name)?;
    let code = req.code.trim().to_ascii_uppercase();
    let id = {
        let mut all = s.classes.lock().map_err(|_| ApiError::internal("lock"))?;
        let b = all
            .joins
            .get_or_insert_with(|| Bucket::new(JOIN_BURST, JOIN_RATE));
        if !b.take() {
            return Err(ApiError::status(
                StatusCode::TOO_MANY_REQUESTS,
                "too many join attempts; wait a few seconds and try again",
            ));
        }
        *all.codes.get(&code).ok_or_else(|| {
            ApiError::not_found(format!(
                "code: no class has the code {:?}; check it on the projector",
                req.code
            ))
        })?
    };
    let room = room_of(&s, id)?;
    let s2 = s.clone();
    let reply = tokio::task::spawn_blocking(move || -> Result<serde_json::Value, ApiError> {
        let mut r = lock(&room)?;
        let (t, i) = match (r.class.free_seat(), r.phase) {
            (_, Phase::Ended) => {
                return Err(ApiError::status(
                    StatusCode::CONFLICT,
                    "the class has ended",
                ));
            }
            (Some(x), _) => x,
            (None, Phase::Lobby) => {
                let t = r
                    .class
                    .add_town()
                    .map_err(|e| ApiError::status(StatusCode::CONFLICT, e.to_string()))?;
                (t, r.class.seats()[0])
            }
            (None, _) => {
                return Err(ApiError::status(
                    StatusCode::CONFLICT,
                    "every seat is taken and the class has started; ask the teacher to free one",
                ));
            }
        };
        r.class.sit(t, i, &name).map_err(ApiError::internal)?;
        let tok = token()?;
        r.tokens.insert((t, i), tok.clone());
        let mut all = s2.classes.lock().map_err(|_| ApiError::internal("lock"))?;
        all.seats.insert(
            tok.clone(),
            SeatKey {
                class: id,
                town: t,
                agency: i,
            },
        );
        all.buckets
            .insert(tok.clone(), Bucket::new(SEAT_BURST, SEAT_RATE));
        Ok(serde_json::json!({
            "token": tok,
            "class": id,
            "town": t + 1,
            "agency": r.class.agency_name(i),
            "label": r.class.agency_label(i),
            "name": name,
        }))
    })
    .await
    .map_err(ApiError::internal)??;
    Ok((StatusCode::CREATED, axum::Json(reply)).into_response())
}

/// The seat a request's token holds, after its rate limit.
fn seat_of(s: &Shared, h: &HeaderMap) -> Result<SeatKey, ApiError> {
    let tok = h
        .get("x-silos-token")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ApiError::status(
                StatusCode::UNAUTHORIZED,
                "x-silos-token: missing; join the class with its code first",
            )
        })?;
    let mut all = s.classes.lock().map_err(|_| ApiError::internal("lock"))?;
    let key = all.seats.get(tok).cloned().ok_or_else(|| {
        ApiError::status(
            StatusCode::UNAUTHORIZED,
            "x-silos-token: this seat is no longer yours (the teacher gave it back to the bot, \
             or the server restarted); join again with the code",
        )
    })?;
    if let Some(b) = all.buckets.get_mut(tok)
        && !b.take()
    {
        return Err(ApiError::status(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "too many messages from this seat (at most {SEAT_RATE} a second); wait a moment"
            ),
        ));
    }
    Ok(key)
}

fn seat_state(r: &Room, k: &SeatKey) -> Result<SeatState, ApiError> {
    let view = r
        .class
        .view(k.town, k.agency)
        .ok_or_else(|| ApiError::not_found("no such seat"))?;
    let debrief = r.debrief.as_ref().and_then(|d| {
        d.seats
            .iter()
            .find(|x| x.town == k.town + 1 && x.agency == view.name)
            .and_then(|x| serde_json::to_value(x).ok())
    });
    Ok(SeatState {
        phase: phase_name(&r.phase),
        left_ms: left_ms(&r.phase),
        view,
        debrief,
    })
}

pub(super) async fn seat(State(s): State<Shared>, h: HeaderMap) -> Result<Response, ApiError> {
    let k = seat_of(&s, &h)?;
    let room = room_of(&s, k.class)?;
    let st = tokio::task::spawn_blocking(move || -> Result<SeatState, ApiError> {
        let r = lock(&room)?;
        seat_state(&r, &k)
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(axum::Json(st).into_response())
}

/// A student's orders for the open round.
pub(super) async fn orders(
    State(s): State<Shared>,
    h: HeaderMap,
    Body(req): Body<OrdersInput>,
) -> Result<Response, ApiError> {
    let k = seat_of(&s, &h)?;
    let room = room_of(&s, k.class)?;
    let st = tokio::task::spawn_blocking(move || -> Result<SeatState, ApiError> {
        let mut r = lock(&room)?;
        match r.phase {
            Phase::Open { .. } | Phase::Paused { .. } => {}
            Phase::Lobby => {
                return Err(ApiError::status(
                    StatusCode::CONFLICT,
                    "the first round has not opened yet; wait for the teacher to start",
                ));
            }
            Phase::Ended => {
                return Err(ApiError::status(
                    StatusCode::CONFLICT,
                    "the class has ended",
                ));
            }
        }
        r.class
            .submit(k.town, k.agency, &req)
            .map_err(ApiError::bad)?;
        r.close_if_all_ready();
        seat_state(&r, &k)
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(axum::Json(st).into_response())
}

/// Close every round whose timer has run out; runs every quarter second.
pub(super) async fn timer(s: Shared) {
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tick.tick().await;
        let due: Vec<Arc<Mutex<Room>>> = match s.classes.lock() {
            Ok(all) => all.by_id.values().cloned().collect(),
            Err(_) => return,
        };
        for room in due {
            let expired = room.lock().is_ok_and(
                |r| matches!(r.phase, Phase::Open { deadline } if deadline <= Instant::now()),
            );
            if expired {
                let _ = tokio::task::spawn_blocking(move || {
                    if let Ok(mut r) = room.lock()
                        && matches!(r.phase, Phase::Open { deadline } if deadline <= Instant::now())
                    {
                        r.close_round();
                    }
                })
                .await;
            }
        }
    }
}
