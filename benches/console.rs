//! Console page speed without AWS: the Users page (table, chart, pagination) and its CSV for
//! 1,000 principals, the size the e2e test seeds. The e2e test logs the first page's time
//! against the emulator; this measures the rendering alone. Run with
//! `cargo bench --bench console`.

use bedrock_watch::config::{QuotaUnit, Quotas};
use bedrock_watch::console::pages;
use bedrock_watch::console::tables::{self, UserFilter};
use bedrock_watch::quotas::admin::status::{PrincipalRow, StatusView};
use criterion::{black_box, criterion_group, criterion_main, Criterion};

fn view(n: usize) -> StatusView {
    let principals = (0..n)
        .map(|i| PrincipalRow {
            name: format!("user-{i:04}@example.com"),
            day: (i * 1_000) as f64,
            month: (i * 30_000) as f64,
            day_limit: Some(2_000_000.0),
            month_limit: Some(30_000_000.0),
            block: None,
            protected: None,
        })
        .collect();
    StatusView { unit: QuotaUnit::Tokens, time_zone: "Europe/Berlin".into(), day: "2026-12-02".into(), month: "2026-12".into(), principals, teams: vec![], unattributed: None }
}

fn bench(c: &mut Criterion) {
    let v = view(1_000);
    let q = Quotas::default();
    c.bench_function("users page, 1000 principals", |b| {
        b.iter(|| {
            let t = tables::users(black_box(&v), &q, &UserFilter::default());
            let (page, info) = t.page(1);
            pages::layout("Users", "Users", &pages::Frame::default(), &(pages::table("users", "Principals", &page, None) + &pages::pagination("/users", &[], info)))
        })
    });
    c.bench_function("users csv, 1000 principals", |b| b.iter(|| tables::users(black_box(&v), &q, &UserFilter::default()).csv()));
}

criterion_group!(benches, bench);
criterion_main!(benches);
