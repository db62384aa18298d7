//! The HTTP side of the console (axum): routes, the login and CSRF checks on every request,
//! security headers on every response, and the calls into `report` and `quota`'s library.
//!
//! The quota tables are read once at start and kept as a snapshot: `quota status` scans the
//! usage table, which for thousands of principals takes seconds, and a page must not. The
//! snapshot is read again in the background every [`REFRESH`], on "Read again", and, for the
//! principal concerned, after every action (four GetItem calls), so the pages show an action's
//! effect at once. Every page says when the snapshot was read.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use axum::extract::{Form, Query, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use jiff::Timestamp;
use serde::Deserialize;
use tokio::sync::RwLock;

use super::auth::{self, Secrets};
use super::pages::{self, href, section, Field, Frame};
use super::tables::{self, By, Table, UserFilter};
use super::ConsoleError;
use crate::aws::Aws;
use crate::config::Config;
use crate::quotas::admin::items::{from_item, AuditEntry};
use crate::quotas::admin::ops::{BlockOutcome, Session};
use crate::quotas::admin::status::{self, StatusView};
use crate::quotas::admin::time as qtime;
use crate::quotas::admin::{AdminError, PRINCIPAL_PREFIX, SK_DAY_PREFIX};
use crate::report::render::{self, html::{per_day, stacked_bars}};
use crate::report::{self, Period, Request as ReportRequest};

/// How often the background task reads the quota tables again.
pub const REFRESH: Duration = Duration::from_secs(60);
/// The Details page's default period.
pub const DEFAULT_HOURS: u32 = 24;
const STYLE_PATH: &str = "/static/console.css";

/// A failure to show on a page: the message and the CLI's help line.
#[derive(Debug, Clone)]
pub struct Failure {
    pub message: String,
    pub help: Option<String>,
}

impl From<AdminError> for Failure {
    fn from(e: AdminError) -> Self {
        Failure { help: e.help(), message: e.to_string() }
    }
}

/// The quota tables as last read.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub status: StatusView,
    pub audit: Vec<AuditEntry>,
    pub read_at: Timestamp,
    pub took: Duration,
}

/// One running console: the connection, the secrets, the snapshot.
pub struct Console {
    pub aws: Aws,
    pub config: Config,
    /// None: the stack has no quotas (then only the usage pages), `quota_note` says why.
    pub session: Option<Session>,
    pub quota_note: Option<String>,
    pub secrets: Secrets,
    pub listen: SocketAddr,
    snapshot: RwLock<Option<Result<Snapshot, Failure>>>,
}

impl Console {
    /// Connects as the operator and reads the quota tables once, so the first page is fast.
    /// Only a stack without quotas is tolerated (usage pages only); any other failure stops
    /// the start with the CLI's message.
    pub async fn open(aws: Aws, config: Config, listen: SocketAddr, secrets: Secrets) -> Result<Console, ConsoleError> {
        aws.check_credentials().await?;
        let (session, quota_note) = match Session::open(aws.clone(), config.clone()).await {
            Ok(s) => (Some(s), None),
            Err(e @ (AdminError::Disabled | AdminError::QuotasNotDeployed { .. })) => {
                (None, Some(format!("No quota pages: {e}. Usage and cost (Details, and per-user figures from the invocation logs) are shown; {}", e.help().unwrap_or_default())))
            }
            Err(e) => return Err(e.into()),
        };
        let console = Console { aws, config, session, quota_note, secrets, listen, snapshot: RwLock::new(None) };
        console.reload().await;
        Ok(console)
    }

    /// Reads status and audit trail again (a no-op without quotas).
    pub async fn reload(&self) {
        let Some(session) = &self.session else { return };
        let t0 = Instant::now();
        let read = async {
            let status = session.status(None, None).await?;
            let audit = session.audit_trail(None).await?;
            Ok::<_, AdminError>((status, audit))
        };
        let result = match read.await {
            Ok((status, audit)) => Ok(Snapshot { status, audit, read_at: Timestamp::now(), took: t0.elapsed() }),
            Err(e) => Err(Failure::from(e)),
        };
        *self.snapshot.write().await = Some(result);
    }

    /// After an action: the principal's row and the audit trail, read again.
    async fn reload_principal(&self, name: &str) {
        let Some(session) = &self.session else { return };
        let (one, audit) = (session.status(Some(name), None).await, session.audit_trail(None).await);
        let mut guard = self.snapshot.write().await;
        match (one, audit, guard.as_mut()) {
            (Ok(one), Ok(audit), Some(Ok(snap))) => {
                for row in one.principals {
                    match snap.status.principals.binary_search_by(|p| p.name.cmp(&row.name)) {
                        Ok(i) => snap.status.principals[i] = row,
                        Err(i) => snap.status.principals.insert(i, row),
                    }
                }
                snap.audit = audit;
            }
            (Err(e), _, _) | (_, Err(e), _) => *guard = Some(Err(e.into())),
            _ => {}
        }
    }

    pub async fn snapshot(&self) -> Option<Result<Snapshot, Failure>> {
        self.snapshot.read().await.clone()
    }

    fn frame(&self, snap: Option<&Snapshot>) -> Frame {
        Frame {
            stack: self.config.stack_name_for(&self.aws.region),
            region: self.aws.region.clone(),
            quotas: self.session.is_some(),
            quota_note: self.quota_note.clone(),
            read: snap.map(|s| {
                format!("Quota tables read at {} in {} ms ({} principals); read again every {} s.", qtime::iso(s.read_at), s.took.as_millis(), s.status.principals.len(), REFRESH.as_secs())
            }),
        }
    }
}

/// Binds the listener (the CLI prints its address before serving).
pub async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, ConsoleError> {
    tokio::net::TcpListener::bind(addr).await.map_err(|source| ConsoleError::Listen { addr, source })
}

/// Serves until `shutdown` completes; reads the quota tables again every [`REFRESH`].
pub async fn serve(listener: tokio::net::TcpListener, console: Arc<Console>, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> Result<(), ConsoleError> {
    let bg = console.clone();
    let refresher = tokio::spawn(async move {
        loop {
            tokio::time::sleep(REFRESH).await;
            bg.reload().await;
        }
    });
    let result = axum::serve(listener, router(console)).with_graceful_shutdown(shutdown).await.map_err(ConsoleError::Serve);
    refresher.abort();
    result
}

pub fn router(console: Arc<Console>) -> Router {
    Router::new()
        .route("/", get(users))
        .route("/login", get(login))
        .route(STYLE_PATH, get(style))
        .route("/users", get(users))
        .route("/users.csv", get(users_csv))
        .route("/teams", get(teams))
        .route("/teams.csv", get(teams_csv))
        .route("/principal", get(principal))
        .route("/details", get(details))
        .route("/details.csv", get(details_csv))
        .route("/blocking", get(blocking))
        .route("/blocks.csv", get(blocks_csv))
        .route("/audit.csv", get(audit_csv))
        .route("/confirm", get(confirm))
        .route("/action", post(action))
        .route("/refresh", get(refresh))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(console.clone(), guard))
        .with_state(console)
}

type Shared = State<Arc<Console>>;

/// Headers every response carries, refusals included.
fn secure(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(auth::CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn forbidden(why: &str) -> Response {
    let body = pages::login(false).replace("<h1>bedrock-watch console</h1>", &format!("<h1>bedrock-watch console</h1>{}", pages::error_box(why, Some("log in with the URL `bedrock-watch serve` printed"))));
    (StatusCode::FORBIDDEN, Html(body)).into_response()
}

/// Every request: the Host must be this server's, and, except for the login and the
/// stylesheet, the session cookie must be present. GET / without it shows the login page.
async fn guard(State(c): Shared, req: Request, next: Next) -> Response {
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok());
    if !auth::host_allowed(host, c.listen) {
        return secure(forbidden("this console answers only to its own address (Host header)"));
    }
    let path = req.uri().path();
    let public = path == "/login" || path == STYLE_PATH;
    let cookie = req.headers().get(header::COOKIE).and_then(|h| h.to_str().ok());
    if !public && !c.secrets.cookie_ok(cookie) {
        if path == "/" && req.method() == Method::GET {
            return secure(Html(pages::login(false)).into_response());
        }
        return secure(forbidden("not logged in"));
    }
    secure(next.run(req).await)
}

#[derive(Debug, Deserialize)]
struct LoginQuery {
    token: Option<String>,
}

async fn login(State(c): Shared, Query(q): Query<LoginQuery>) -> Response {
    match q.token {
        Some(t) if c.secrets.token_ok(&t) => {
            let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, "/users")]).into_response();
            if let Ok(v) = HeaderValue::from_str(&auth::session_cookie(&c.secrets.token)) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        Some(_) => (StatusCode::FORBIDDEN, Html(pages::login(true))).into_response(),
        None => Html(pages::login(false)).into_response(),
    }
}

async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], pages::STYLESHEET).into_response()
}

async fn not_found(State(c): Shared) -> Response {
    (StatusCode::NOT_FOUND, Html(pages::layout("Not found", "", &c.frame(None), "<p>No such page.</p>"))).into_response()
}

fn csv_response(name: &str, body: String) -> Response {
    let disposition = format!("attachment; filename=\"{name}\"");
    let mut r = ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response();
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

fn failure_page(c: &Console, title: &str, active: &str, f: &Failure, status: StatusCode) -> Response {
    (status, Html(pages::layout(title, active, &c.frame(None), &pages::error_box(&f.message, f.help.as_deref())))).into_response()
}

/// The snapshot, or the page that says why there is none.
async fn need_snapshot(c: &Console, title: &str, active: &str) -> Result<Snapshot, Response> {
    match c.snapshot().await {
        Some(Ok(s)) => Ok(s),
        Some(Err(f)) => Err(failure_page(c, title, active, &f, StatusCode::BAD_GATEWAY)),
        None => Err(failure_page(c, title, active, &Failure { message: "the quota tables have not been read yet".into(), help: Some("reload the page in a moment".into()) }, StatusCode::SERVICE_UNAVAILABLE)),
    }
}

#[derive(Debug, Default, Deserialize)]
struct UsersQuery {
    #[serde(default)]
    q: String,
    team: Option<String>,
    state: Option<String>,
    sort: Option<String>,
    page: Option<usize>,
}

impl UsersQuery {
    fn filter(&self) -> UserFilter {
        UserFilter { name: self.q.clone(), team: self.team.clone().filter(|t| !t.is_empty()), state: self.state.clone().filter(|s| !s.is_empty()), sort: self.sort.clone().filter(|s| !s.is_empty()) }
    }
}

async fn users(State(c): Shared, Query(q): Query<UsersQuery>) -> Response {
    if c.session.is_none() {
        return usage_only_users(&c).await;
    }
    let snap = match need_snapshot(&c, "Users", "Users").await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let f = q.filter();
    let table = tables::users(&snap.status, &c.config.quotas, &f);
    let (page, pages_info) = table.page(q.page.unwrap_or(1));
    let team_options = std::iter::once(String::new()).chain(c.config.quotas.teams.keys().cloned()).collect::<Vec<_>>().join("|");
    let (team, state, sort) = (f.team.clone().unwrap_or_default(), f.state.clone().unwrap_or_default(), f.sort.clone().unwrap_or_default());
    let mut body = format!("<p>Consumption on {} and in {} ({}), in {}, against each principal's limits.</p>\n", snap.status.day, snap.status.month, snap.status.time_zone, unit_name(&snap.status));
    body.push_str(&pages::get_form(
        "/users",
        "filter",
        &[
            Field { name: "q", label: "Name", value: &f.name, kind: "text" },
            Field { name: "team", label: "Team", value: &team, kind: &format!("select:{team_options}") },
            Field { name: "state", label: "State", value: &state, kind: "select:|blocked|over=over a limit|protected" },
            Field { name: "sort", label: "Sort", value: &sort, kind: "select:=name|today=today, largest first|month=this month, largest first" },
        ],
        "Show",
    ));
    body.push_str(&top_chart(&table, &snap.status));
    let params = [("q", f.name.as_str()), ("team", team.as_str()), ("state", state.as_str()), ("sort", sort.as_str())];
    body.push_str(&pages::table("users", "Principals", &page, Some(&href("/users.csv", &params))));
    body.push_str(&pages::pagination("/users", &params, pages_info));
    Html(pages::layout("Users", "Users", &c.frame(Some(&snap)), &body)).into_response()
}

fn unit_name(v: &StatusView) -> &'static str {
    match v.unit {
        crate::config::QuotaUnit::Tokens => "tokens",
        crate::config::QuotaUnit::Usd => "estimated USD",
    }
}

/// The ten largest consumers of the month among the listed principals.
fn top_chart(t: &Table, v: &StatusView) -> String {
    let mut rows: Vec<(String, f64)> = t.rows.iter().filter_map(|r| Some((r[0].raw(), r[4].raw().parse::<f64>().ok()?))).filter(|(_, m)| *m > 0.0).collect();
    rows.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    rows.truncate(10);
    if rows.is_empty() {
        return "<p>No consumption counted this month.</p>\n".into();
    }
    let names: Vec<String> = rows.iter().map(|(n, _)| crate::preview::escape::truncate(n, 18)).collect();
    let series = vec![(format!("this month ({})", unit_name(v)), rows.iter().map(|(_, m)| *m).collect())];
    let unit = v.unit;
    stacked_bars("top-month", &format!("Largest consumers in {}", v.month), &names, &series, move |x| status::amount(x, unit))
}

/// A CSV export of a table of the snapshot.
async fn snapshot_csv(c: &Console, name: &str, table: impl FnOnce(&Snapshot) -> Table) -> Response {
    match need_snapshot(c, "Export", "").await {
        Ok(snap) => csv_response(name, table(&snap).csv()),
        Err(r) => r,
    }
}

async fn users_csv(State(c): Shared, Query(q): Query<UsersQuery>) -> Response {
    snapshot_csv(&c, "users.csv", |s| tables::users(&s.status, &c.config.quotas, &q.filter())).await
}

/// Without quotas the Users page is the per-user figures of the invocation logs.
async fn usage_only_users(c: &Console) -> Response {
    let body = match run_report(c, DEFAULT_HOURS).await {
        Ok(r) => report_body(&r, By::User, None, DEFAULT_HOURS),
        Err(f) => pages::error_box(&f.message, f.help.as_deref()),
    };
    Html(pages::layout("Users", "Users", &c.frame(None), &body)).into_response()
}

async fn teams(State(c): Shared) -> Response {
    if c.session.is_none() {
        let body = "<p>Teams and their monthly limits are part of quotas (<code>quotas.teams</code>); this stack has none.</p>";
        return Html(pages::layout("Teams", "Teams", &c.frame(None), body)).into_response();
    }
    let snap = match need_snapshot(&c, "Teams", "Teams").await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let t = tables::teams(&snap.status);
    let mut body = format!("<p>Monthly consumption of each team in {} against the team limit, in {}.</p>\n", snap.status.month, unit_name(&snap.status));
    if !t.rows.is_empty() {
        let names: Vec<String> = snap.status.teams.iter().map(|t| t.name.clone()).collect();
        let series = vec![("this month".to_owned(), snap.status.teams.iter().map(|t| t.month).collect()), ("left of the limit".to_owned(), snap.status.teams.iter().map(|t| t.limit.map_or(0.0, |l| (l - t.month).max(0.0))).collect())];
        let unit = snap.status.unit;
        body.push_str(&stacked_bars("teams-month", "Team consumption this month against the limit", &names, &series, move |x| status::amount(x, unit)));
    }
    body.push_str(&pages::table("teams", "Teams", &t, Some("/teams.csv")));
    Html(pages::layout("Teams", "Teams", &c.frame(Some(&snap)), &body)).into_response()
}

async fn teams_csv(State(c): Shared) -> Response {
    snapshot_csv(&c, "teams.csv", |s| tables::teams(&s.status)).await
}

#[derive(Debug, Deserialize)]
struct NameQuery {
    #[serde(default)]
    name: String,
}

/// One principal's daily counters of this month (quota_core's `DAY#` items).
async fn principal_days(session: &Session, name: &str, month: &str) -> Result<Vec<(String, f64, f64)>, AdminError> {
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let r = session
            .aws
            .dynamodb()
            .query()
            .table_name(&session.usage_table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :d)")
            .expression_attribute_values(":pk", AttributeValue::S(format!("{PRINCIPAL_PREFIX}{name}")))
            .expression_attribute_values(":d", AttributeValue::S(format!("{SK_DAY_PREFIX}{month}-")))
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(|e| session.aws.error("Query", e))?;
        for item in r.items() {
            let v = from_item(item);
            let sk = v.get("sk").and_then(serde_json::Value::as_str).unwrap_or("");
            let bad = |d: String| AdminError::BadItem { table: "usage", key: format!("{PRINCIPAL_PREFIX}{name} {sk}"), detail: d };
            let used = status::usage_of(Some(&v), session.config.quotas.unit).map_err(bad)?;
            let calls = v.get("calls").and_then(serde_json::Value::as_str).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
            out.push((sk.trim_start_matches(SK_DAY_PREFIX).to_owned(), used, calls));
        }
        match r.last_evaluated_key() {
            Some(k) if !k.is_empty() => start = Some(k.clone()),
            _ => break,
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

async fn principal(State(c): Shared, Query(q): Query<NameQuery>) -> Response {
    let name = q.name.trim().to_owned();
    let details_link = format!("<p><a href=\"{}\">Calls, tokens and cost of {} by model and day (Details)</a></p>\n", pages::enc_attr(&href("/details", &[("user", &name)])), crate::preview::escape::xml(&name));
    let Some(session) = &c.session else {
        return Html(pages::layout(&name, "Users", &c.frame(None), &details_link)).into_response();
    };
    let view = match session.status(Some(&name), None).await {
        Ok(v) => v,
        Err(e) => return failure_page(&c, &name, "Users", &e.into(), StatusCode::BAD_GATEWAY),
    };
    let days = match principal_days(session, &name, &view.month).await {
        Ok(d) => d,
        Err(e) => return failure_page(&c, &name, "Users", &e.into(), StatusCode::BAD_GATEWAY),
    };
    let mut body = details_link;
    body.push_str(&pages::table("principal", "Today and this month", &tables::users(&view, &c.config.quotas, &UserFilter::default()), None));
    if let Some(b) = view.principals.first().and_then(|p| p.block.as_ref()) {
        body.push_str(&pages::notice(&format!("Blocked until {} by {}: {} ({}).", b.until, b.blocked_by, b.reason, b.target.mechanism())));
    }
    body.push_str(&actions_for(&name, view.principals.first()));
    if !days.is_empty() {
        let labels: Vec<String> = days.iter().map(|(d, _, _)| d.get(8..).unwrap_or(d).to_owned()).collect();
        let unit = view.unit;
        body.push_str(&stacked_bars("days", &format!("Daily consumption in {} ({})", view.month, unit_name(&view)), &labels, &[("usage".to_owned(), days.iter().map(|d| d.1).collect())], move |x| status::amount(x, unit)));
    }
    body.push_str(&pages::table("days", &format!("Days of {}", view.month), &tables::days(&days, view.unit), None));
    if let Some(Ok(snap)) = c.snapshot().await {
        let audit = tables::audit(&snap.audit, view.unit, Some(&name));
        body.push_str(&pages::table("audit", "Audit trail", &audit, Some(&href("/audit.csv", &[("principal", &name)]))));
    }
    Html(pages::layout(&name, "Users", &c.frame(None), &body)).into_response()
}

/// The action forms of one principal: GET to the confirmation page.
fn actions_for(name: &str, row: Option<&status::PrincipalRow>) -> String {
    let mut out = String::new();
    let blocked = row.is_some_and(|r| r.block.is_some());
    let protected_by = row.and_then(|r| r.protected.clone());
    if blocked {
        out.push_str(&pages::get_form("/confirm", "unblock", &[hidden("action", "unblock"), hidden("principal", name), Field { name: "reason", label: "Reason", value: "lifted by an operator", kind: "text" }], "Unblock…"));
    } else if protected_by.is_none() {
        out.push_str(&block_form(name));
    }
    match protected_by.as_deref() {
        Some("config") => out.push_str("<p>Protected by <code>quotas.protected</code> in the config.</p>\n"),
        Some(_) => out.push_str(&pages::get_form("/confirm", "unprotect", &[hidden("action", "unprotect"), hidden("principal", name), Field { name: "reason", label: "Reason", value: "", kind: "text" }], "Unprotect…")),
        None => out.push_str(&pages::get_form("/confirm", "protect", &[hidden("action", "protect"), hidden("principal", name), Field { name: "reason", label: "Reason", value: "", kind: "text" }], "Protect…")),
    }
    out
}

fn hidden<'a>(name: &'a str, value: &'a str) -> Field<'a> {
    Field { name, label: "", value, kind: "hidden" }
}

fn block_form(name: &str) -> String {
    let principal = if name.is_empty() { Field { name: "principal", label: "Principal", value: "", kind: "text" } } else { hidden("principal", name) };
    pages::get_form(
        "/confirm",
        "block",
        &[hidden("action", "block"), principal, Field { name: "until", label: "Until", value: "end-of-day", kind: "text" }, Field { name: "reason", label: "Reason", value: "", kind: "text" }],
        "Block…",
    )
}

#[derive(Debug, Deserialize)]
struct DetailsQuery {
    hours: Option<u32>,
    by: Option<String>,
    user: Option<String>,
}

async fn run_report(c: &Console, hours: u32) -> Result<report::Report, Failure> {
    let now = Timestamp::now().as_second();
    let fail = |e: report::ReportError| Failure { help: Some(e.help()), message: e.to_string() };
    let period = Period::last_hours(hours, now).map_err(fail)?;
    let req = ReportRequest { period, top_users: usize::MAX, now };
    // `report::generate` is not Send (its API traits use async fn), while axum's handlers must
    // be: it runs on a blocking thread with a runtime of its own, as the CLI runs it.
    let (aws, config) = (c.aws.clone(), c.config.clone());
    let joined = tokio::task::spawn_blocking(move || {
        let rt = crate::aws::runtime().map_err(report::ReportError::Aws)?;
        rt.block_on(report::generate(&aws, &config, &req, &mut |_: &str| {}))
    })
    .await;
    match joined {
        Ok(r) => r.map_err(fail),
        Err(e) => Err(Failure { message: format!("the report task failed: {e}"), help: Some("this is a bug in bedrock-watch; please report it".into()) }),
    }
}

fn report_body(r: &report::Report, by: By, user: Option<&str>, hours: u32) -> String {
    let mut body = String::new();
    body.push_str(&format!("<p>{} to {} ({} hours), from the same queries as <code>bedrock-watch report --by {}</code>.</p>\n", r.period.start, r.period.end, hours, by.name()));
    body.push_str("<div class=\"kpis\">");
    for (label, value) in render::summary(r).into_iter().take(6) {
        body.push_str(&format!("<div class=\"kpi\">{}<b>{}</b></div>", crate::preview::escape::xml(label), crate::preview::escape::xml(&value)));
    }
    body.push_str("</div>\n");
    if !r.days.is_empty() {
        let (days, tokens) = per_day(r, |d| (d.input_tokens + d.output_tokens) as f64);
        body.push_str(&stacked_bars("tokens-per-day", "Tokens per day (input + output), by model", &days, &tokens, |v| render::int(v.round() as u64)));
    }
    let rb = match by {
        By::User => render::By::User,
        By::Model => render::By::Model,
        By::Day => render::By::Day,
    };
    let (header, mut rows) = render::breakdown(r, rb);
    if let (By::User, Some(u)) = (by, user) {
        rows.retain(|row| row.first().is_some_and(|p| p == u));
    }
    let hours_s = hours.to_string();
    let csv = href("/details.csv", &[("hours", &hours_s), ("by", by.name()), ("user", user.unwrap_or(""))]);
    if let Some(note) = render::empty_breakdown_note(r, rb) {
        body.push_str(&format!("<p class=\"note\">{}</p>\n", crate::preview::escape::xml(&note)));
    }
    body.push_str(&pages::text_table("breakdown", &format!("By {}", by.name()), &header, &rows, by == By::User, Some(&csv)));
    if !r.notes.is_empty() {
        body.push_str(&section("Notes", &r.notes.iter().map(|n| format!("<p class=\"note\">{}</p>", crate::preview::escape::xml(n))).collect::<String>()));
    }
    body
}

async fn details(State(c): Shared, Query(q): Query<DetailsQuery>) -> Response {
    let hours = q.hours.unwrap_or(DEFAULT_HOURS);
    let by = By::parse(q.by.as_deref());
    let user = q.user.clone().filter(|u| !u.is_empty());
    let hours_s = hours.to_string();
    let mut body = pages::get_form(
        "/details",
        "period",
        &[
            Field { name: "hours", label: "Last hours", value: &hours_s, kind: "number" },
            Field { name: "by", label: "By", value: by.name(), kind: "select:user|model|day" },
            Field { name: "user", label: "User", value: user.as_deref().unwrap_or(""), kind: "text" },
        ],
        "Show",
    );
    match run_report(&c, hours).await {
        Ok(r) => body.push_str(&report_body(&r, by, user.as_deref(), hours)),
        Err(f) => body.push_str(&pages::error_box(&f.message, f.help.as_deref())),
    }
    Html(pages::layout("Details", "Details", &c.frame(None), &body)).into_response()
}

async fn details_csv(State(c): Shared, Query(q): Query<DetailsQuery>) -> Response {
    let by = By::parse(q.by.as_deref());
    match run_report(&c, q.hours.unwrap_or(DEFAULT_HOURS)).await {
        Ok(r) => {
            let (header, rows) = tables::report(&r, by, q.user.as_deref().filter(|u| !u.is_empty()));
            csv_response(&format!("details-by-{}.csv", by.name()), super::csv::document(&header, &rows))
        }
        Err(f) => failure_page(&c, "Details", "Details", &f, StatusCode::BAD_GATEWAY),
    }
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    page: Option<usize>,
}

async fn blocking(State(c): Shared, Query(q): Query<PageQuery>) -> Response {
    if c.session.is_none() {
        return not_found(State(c)).await;
    }
    let snap = match need_snapshot(&c, "Blocking", "Blocking").await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let mut body = section("Block a principal", &format!("<p>Until: RFC 3339, a local date or date-time in {}, a duration (30m, 12h, 3d), end-of-day or end-of-month. You confirm on the next page.</p>{}", crate::preview::escape::xml(&snap.status.time_zone), block_form("")));
    let blocks = tables::blocks(&snap.status);
    let blocked: Vec<String> = snap.status.principals.iter().filter(|p| p.block.is_some()).map(|p| p.name.clone()).collect();
    let mut inner = pages::table("blocks", "Blocks in force", &blocks, Some("/blocks.csv"));
    if !blocked.is_empty() {
        inner.push_str(&pages::get_form(
            "/confirm",
            "unblock",
            &[hidden("action", "unblock"), Field { name: "principal", label: "Principal", value: "", kind: &format!("select:{}", blocked.join("|")) }, Field { name: "reason", label: "Reason", value: "lifted by an operator", kind: "text" }],
            "Unblock…",
        ));
    }
    body.push_str(&section("Blocked", &inner));
    let prot = tables::protected(&snap.status);
    let by_operator: Vec<String> = snap.status.principals.iter().filter(|p| p.protected.as_deref().is_some_and(|b| b != "config")).map(|p| p.name.clone()).collect();
    let mut inner = pages::table("protected", "Protected principals", &prot, None);
    inner.push_str(&pages::get_form("/confirm", "protect", &[hidden("action", "protect"), Field { name: "principal", label: "Principal", value: "", kind: "text" }, Field { name: "reason", label: "Reason", value: "", kind: "text" }], "Protect…"));
    if !by_operator.is_empty() {
        inner.push_str(&pages::get_form(
            "/confirm",
            "unprotect",
            &[hidden("action", "unprotect"), Field { name: "principal", label: "Principal", value: "", kind: &format!("select:{}", by_operator.join("|")) }, Field { name: "reason", label: "Reason", value: "", kind: "text" }],
            "Unprotect…",
        ));
    }
    body.push_str(&section("Protected", &inner));
    let audit = tables::audit(&snap.audit, snap.status.unit, None);
    let (page, info) = audit.page(q.page.unwrap_or(1));
    body.push_str(&section("Audit trail", &(pages::table("audit", "Audit trail, newest first", &page, Some("/audit.csv")) + &pages::pagination("/blocking", &[], info))));
    Html(pages::layout("Blocking", "Blocking", &c.frame(Some(&snap)), &body)).into_response()
}

async fn blocks_csv(State(c): Shared) -> Response {
    snapshot_csv(&c, "blocks.csv", |s| tables::blocks(&s.status)).await
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    principal: Option<String>,
}

async fn audit_csv(State(c): Shared, Query(q): Query<AuditQuery>) -> Response {
    snapshot_csv(&c, "audit.csv", |s| tables::audit(&s.audit, s.status.unit, q.principal.as_deref().filter(|p| !p.is_empty()))).await
}

/// An action as the forms send it (GET to confirm, POST to act).
#[derive(Debug, Deserialize)]
struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    principal: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    reason: String,
}

/// What an action will do, checked before the confirmation page is shown.
enum Planned {
    Block { until: Timestamp },
    Unblock,
    Protect,
    Unprotect,
}

fn plan(session: &Session, a: &ActionForm) -> Result<Planned, Failure> {
    let usage = |m: String| Failure { message: m, help: Some("use the forms of the Blocking page".into()) };
    if a.principal.trim().is_empty() {
        return Err(usage("name a principal".into()));
    }
    match a.action.as_str() {
        "block" => {
            if a.reason.trim().is_empty() {
                return Err(Failure { message: "a block needs a reason (it is recorded in the block item and the audit trail)".into(), help: None });
            }
            let until = qtime::parse_until(a.until.trim(), Timestamp::now(), &session.tz).map_err(|e| Failure::from(AdminError::from(e)))?;
            Ok(Planned::Block { until })
        }
        "unblock" => Ok(Planned::Unblock),
        "protect" => Ok(Planned::Protect),
        "unprotect" => Ok(Planned::Unprotect),
        other => Err(usage(format!("unknown action `{other}`; allowed: block, unblock, protect, unprotect"))),
    }
}

async fn confirm(State(c): Shared, Query(a): Query<ActionForm>) -> Response {
    let Some(session) = &c.session else { return not_found(State(c.clone())).await };
    let planned = match plan(session, &a) {
        Ok(p) => p,
        Err(f) => return failure_page(&c, "Confirm", "Blocking", &f, StatusCode::BAD_REQUEST),
    };
    let p = a.principal.trim();
    let (what, until) = match planned {
        Planned::Block { until } => (format!("Block {p} from Bedrock (invoke and converse) until {}? Reason: {}", qtime::iso(until), a.reason), qtime::iso(until)),
        Planned::Unblock => (format!("Unblock {p} now? Reason: {}", a.reason), String::new()),
        Planned::Protect => (format!("Protect {p}: never block it automatically, and refuse operator blocks?"), String::new()),
        Planned::Unprotect => (format!("Remove the protection of {p}?"), String::new()),
    };
    let hidden = [("action", a.action.as_str()), ("principal", p), ("until", until.as_str()), ("reason", a.reason.as_str())];
    Html(pages::confirm(&c.frame(None), &what, &hidden, &c.secrets.csrf)).into_response()
}

/// The state change, after the CSRF check; the outcome is printed as the CLI prints it.
async fn action(State(c): Shared, Form(a): Form<ActionForm>) -> Response {
    if !c.secrets.csrf_ok(&a.csrf) {
        return forbidden("the form's CSRF token is missing or wrong; nothing was changed");
    }
    let Some(session) = &c.session else { return not_found(State(c.clone())).await };
    let planned = match plan(session, &a) {
        Ok(p) => p,
        Err(f) => return failure_page(&c, "Action", "Blocking", &f, StatusCode::BAD_REQUEST),
    };
    let p = a.principal.trim();
    let result: Result<String, AdminError> = match planned {
        Planned::Block { until } => session.block(p, until, &a.reason).await.map(|o| match o {
            BlockOutcome::Blocked { until, mechanism } => format!("blocked {p} until {until} ({mechanism}); recorded by {}", session.actor),
            BlockOutcome::KeptLonger { until, mechanism } => format!("{p} was already blocked until {until} ({mechanism}), which is not earlier; that block is kept (unblock first to shorten it)"),
        }),
        Planned::Unblock => session.unblock(p, &a.reason).await.map(|b| match b {
            Some(b) => format!("unblocked {p} (was blocked until {} by {}: {}); recorded by {}", b.until, b.blocked_by, b.reason, session.actor),
            None => format!("{p} is not blocked; nothing changed"),
        }),
        Planned::Protect => session.protect(p, &a.reason).await.map(|()| format!("protected {p}: it is never blocked automatically, and blocks are refused; recorded by {}", session.actor)),
        Planned::Unprotect => session.unprotect(p, &a.reason).await.map(|was| if was { format!("unprotected {p}; recorded by {}", session.actor) } else { format!("{p} was not protected by an operator; nothing changed") }),
    };
    c.reload_principal(p).await;
    let links = format!("<p><a href=\"/blocking\">Blocking</a> · <a href=\"{}\">{}</a></p>", pages::enc_attr(&pages::principal_href(p)), crate::preview::escape::xml(p));
    match result {
        Ok(msg) => Html(pages::layout("Done", "Blocking", &c.frame(None), &(pages::notice(&msg) + &links))).into_response(),
        Err(e) => {
            let status = if e.is_refusal() { StatusCode::CONFLICT } else { StatusCode::BAD_GATEWAY };
            (status, Html(pages::layout("Not done", "Blocking", &c.frame(None), &(pages::error_box(&e.to_string(), e.help().as_deref()) + &links)))).into_response()
        }
    }
}

async fn refresh(State(c): Shared) -> Response {
    c.reload().await;
    (StatusCode::SEE_OTHER, [(header::LOCATION, "/users")]).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use tower::ServiceExt;

    const TOKEN: &str = "7777777777777777777777777777777777777777777777777777777777777777";
    const CSRF: &str = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";

    /// A console without quotas and without AWS calls on the routes exercised here.
    async fn console() -> Arc<Console> {
        let aws = Aws::connect(&crate::aws::Target::default(), "us-east-1").await;
        let secrets = Secrets { token: TOKEN.into(), csrf: CSRF.into() };
        Arc::new(Console { aws, config: Config::default(), session: None, quota_note: Some("No quota pages: test".into()), secrets, listen: "127.0.0.1:8080".parse().unwrap(), snapshot: RwLock::new(None) })
    }

    async fn call(method: &str, uri: &str, cookie: Option<&str>, host: &str, body: &str) -> (StatusCode, axum::http::HeaderMap, String) {
        let mut b = axum::http::Request::builder().method(method).uri(uri).header(header::HOST, host);
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        if method == "POST" {
            b = b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        let r = router(console().await).oneshot(b.body(Body::from(body.to_owned())).unwrap()).await.unwrap();
        let (status, headers) = (r.status(), r.headers().clone());
        let bytes = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
        (status, headers, String::from_utf8(bytes.to_vec()).unwrap())
    }

    const HOST: &str = "127.0.0.1:8080";

    #[tokio::test]
    async fn without_the_cookie_only_the_login_and_the_stylesheet_answer() {
        let (s, h, body) = call("GET", "/", None, HOST, "").await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("name=\"token\""));
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], auth::CSP);
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h[header::REFERRER_POLICY], "no-referrer");
        for path in ["/users", "/teams", "/blocking", "/users.csv", "/details", "/confirm?action=block"] {
            let (s, h, _) = call("GET", path, None, HOST, "").await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{path}");
            assert_eq!(h[header::CONTENT_SECURITY_POLICY], auth::CSP, "refusals carry the headers too");
        }
        let (s, _, _) = call("POST", "/action", Some("bw_console=wrong"), HOST, &format!("csrf={CSRF}&action=block&principal=a")).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, h, css) = call("GET", STYLE_PATH, None, HOST, "").await;
        assert_eq!(s, StatusCode::OK);
        assert!(h[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/css") && css.contains("table"));
    }

    #[tokio::test]
    async fn the_token_is_exchanged_for_a_strict_cookie() {
        let (s, _, body) = call("GET", "/login?token=0000", None, HOST, "").await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        assert!(body.contains("not this console"));
        let (s, h, _) = call("GET", &format!("/login?token={TOKEN}"), None, HOST, "").await;
        assert_eq!(s, StatusCode::SEE_OTHER);
        assert_eq!(h[header::LOCATION], "/users");
        assert_eq!(h[header::SET_COOKIE], format!("bw_console={TOKEN}; HttpOnly; SameSite=Strict; Path=/").as_str());
        let cookie = format!("bw_console={TOKEN}");
        let (s, _, body) = call("GET", "/teams", Some(&cookie), HOST, "").await;
        assert_eq!(s, StatusCode::OK);
        assert!(body.contains("No quota pages: test") && body.contains("quotas.teams"));
        let (s, _, _) = call("GET", "/teams", Some(&cookie), "evil.example:8080", "").await;
        assert_eq!(s, StatusCode::FORBIDDEN, "a foreign Host is refused even with the cookie");
    }

    #[tokio::test]
    async fn state_changes_need_post_and_the_csrf_token() {
        let cookie = format!("bw_console={TOKEN}");
        let (s, _, body) = call("POST", "/action", Some(&cookie), HOST, "action=block&principal=a&until=2h&reason=r").await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        assert!(body.contains("CSRF"));
        let (s, _, _) = call("POST", "/action", Some(&cookie), HOST, "csrf=dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd&action=block&principal=a").await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        let (s, _, _) = call("GET", "/action?action=block&principal=a", Some(&cookie), HOST, "").await;
        assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
        // With the token, but no quotas in the stack: nothing to act on.
        let (s, _, _) = call("POST", "/action", Some(&cookie), HOST, &format!("csrf={CSRF}&action=block&principal=a")).await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }

    #[test]
    fn details_show_the_report_with_links_and_a_chart() {
        let r = report::Report::from_json(include_str!("../../tests/data/report.json")).unwrap();
        let body = report_body(&r, By::User, None, 48);
        assert!(body.contains("href=\"/principal?name=raj.patel%40example.com\""), "{body}");
        assert!(body.contains("id=\"tokens-per-day\""));
        assert!(body.contains("href=\"/details.csv?hours=48&amp;by=user\""));
        let one = report_body(&r, By::User, Some("jane.doe@example.com"), 48);
        assert!(one.contains("jane.doe@example.com") && !one.contains(">raj.patel@example.com<"));
        let (header, rows) = tables::report(&r, By::Day, None);
        assert_eq!(header[0], "date");
        assert_eq!(rows.len(), 3);
    }
}
