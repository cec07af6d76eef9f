use super::*;

const DUMP: &str = r#"--
-- PostgreSQL database dump
--

\restrict abc123

SET statement_timeout = 0;

--
-- Name: app; Type: SCHEMA; Schema: -; Owner: rythm
--

CREATE SCHEMA app;

--
-- Name: citext; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA public;

--
-- Name: mood; Type: TYPE; Schema: app; Owner: rythm
--

CREATE TYPE app.mood AS ENUM ('ok', 'great');

--
-- Name: touch(); Type: FUNCTION; Schema: app; Owner: rythm
--

CREATE FUNCTION app.touch() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
-- Name: fake; Type: TABLE; Schema: app; Owner: nobody
BEGIN RETURN NEW; END $$;

--
-- Name: users; Type: TABLE; Schema: app; Owner: rythm
--

CREATE TABLE app.users (
    tenant_id uuid NOT NULL,
    "E-mail" text
);

--
-- Name: Odd "T"; Type: TABLE; Schema: app; Owner: rythm
--

CREATE TABLE app."Odd ""T""" (x int);

--
-- Name: users_id_seq; Type: SEQUENCE; Schema: app; Owner: rythm
--

CREATE SEQUENCE app.users_id_seq;

--
-- Name: v; Type: VIEW; Schema: app; Owner: rythm
--

CREATE VIEW app.v AS SELECT 1;

--
-- Name: mv; Type: MATERIALIZED VIEW; Schema: app; Owner: rythm
--

CREATE MATERIALIZED VIEW app.mv AS SELECT 1 WITH NO DATA;

--
-- Data for Name: users; Type: TABLE DATA; Schema: app; Owner: rythm
--

COPY app.users (tenant_id, "E-mail") FROM stdin;
aaaa	a@x
bbbb	b@x
aaaa	\N
\N	nobody
\.


--
-- Data for Name: Odd "T"; Type: TABLE DATA; Schema: app; Owner: rythm
--

COPY app."Odd ""T""" (x) FROM stdin;
1
\.


--
-- Name: users_id_seq; Type: SEQUENCE SET; Schema: app; Owner: rythm
--

SELECT pg_catalog.setval('app.users_id_seq', 4242, true);

--
-- Name: 16500; Type: BLOB; Schema: -; Owner: rythm
--

SELECT pg_catalog.lo_create('16500');

--
-- PostgreSQL database dump complete
--

\unrestrict abc123
"#;

fn read(dump: &str, piece: usize, tenant: Option<&str>) -> DumpContents {
    let mut reader = ContentsReader::new(tenant);
    for chunk in dump.as_bytes().chunks(piece) {
        reader.write_all(chunk).unwrap();
    }
    reader.finish()
}

#[test]
fn lists_what_a_dump_holds_in_any_pieces() {
    let whole = read(DUMP, DUMP.len(), Some("tenant_id"));
    for piece in [1, 2, 5, 64, 4096] {
        assert_eq!(read(DUMP, piece, Some("tenant_id")), whole, "piece {piece}");
    }
    assert_eq!(whole.schemas, vec!["app"]);
    assert_eq!(whole.extensions, vec!["citext"]);
    assert_eq!(
        whole.types,
        vec![SchemaObject {
            schema: "app".into(),
            name: "mood".into()
        }]
    );
    assert_eq!(whole.functions.len(), 1);
    assert_eq!(whole.views[0].name, "v");
    assert_eq!(whole.materialized_views[0].name, "mv");
    assert_eq!(whole.large_objects, 1);
    assert_eq!(
        whole.sequences,
        vec![SequenceContents {
            schema: "app".into(),
            name: "users_id_seq".into(),
            value: Some(4242)
        }]
    );
    // A header inside a function body is no header.
    let names: Vec<&str> = whole.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, vec!["Odd \"T\"", "users"]);
    let users = &whole.tables[1];
    assert_eq!(users.rows, 4);
    assert_eq!(
        users.bytes,
        "aaaa\ta@x\nbbbb\tb@x\naaaa\t\\N\n\\N\tnobody\n".len() as u64
    );
    assert!(users.has_tenant_column);
    assert!(!whole.tables[0].has_tenant_column);
    assert_eq!(whole.tables[0].rows, 1);
    let tenants = whole.tenants.unwrap();
    assert_eq!(tenants.column, "tenant_id");
    assert_eq!(
        tenants.tenants,
        vec![
            TenantRows {
                id: "aaaa".into(),
                rows: 2
            },
            TenantRows {
                id: "bbbb".into(),
                rows: 1
            }
        ]
    );
    assert_eq!(whole.sql_bytes, DUMP.len() as u64);
}

#[test]
fn without_a_tenant_column_there_is_no_tenant_summary() {
    assert_eq!(read(DUMP, 100, None).tenants, None);
    assert_eq!(read(DUMP, 100, Some("nope")).tenants, None);
}

#[test]
fn recorded_counts_win_over_counted_ones() {
    let mut tables = read(DUMP, 100, None).tables;
    prefer_recorded(&mut tables, None);
    assert!(tables.iter().all(|t| t.rows_source == RowsSource::Counted));
    let recorded = [crate::catalog::row_counts::TableRows {
        schema: "app".into(),
        table: "users".into(),
        rows: 7,
    }];
    prefer_recorded(&mut tables, Some(&recorded));
    assert_eq!(tables[1].rows, 7);
    assert_eq!(tables[1].rows_source, RowsSource::Recorded);
    assert_eq!(tables[0].rows_source, RowsSource::Counted);
}

/// A dump with one table's rows left out (as a partial restore's safety backup leaves
/// them), a partitioned table whose rows are in its partitions, and an empty table.
const PARTIAL_DUMP: &str = r#"--
-- Name: kept; Type: TABLE; Schema: public; Owner: rythm
--

CREATE TABLE public.kept (id int);

--
-- Name: left_out; Type: TABLE; Schema: public; Owner: rythm
--

CREATE TABLE public.left_out (id int);

--
-- Name: empty; Type: TABLE; Schema: public; Owner: rythm
--

CREATE TABLE public.empty (id int);

--
-- Name: events; Type: TABLE; Schema: public; Owner: rythm
--

CREATE TABLE public.events (id int, on_day date) PARTITION BY RANGE (on_day);

--
-- Name: events_2026; Type: TABLE; Schema: public; Owner: rythm
--

CREATE TABLE public.events_2026 (id int, on_day date);

--
-- Name: events_2026; Type: TABLE ATTACH; Schema: public; Owner: rythm
--

ALTER TABLE ONLY public.events ATTACH PARTITION public.events_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');

--
-- Data for Name: kept; Type: TABLE DATA; Schema: public; Owner: rythm
--

COPY public.kept (id) FROM stdin;
1
2
\.


--
-- Data for Name: empty; Type: TABLE DATA; Schema: public; Owner: rythm
--

COPY public.empty (id) FROM stdin;
\.


--
-- Data for Name: events_2026; Type: TABLE DATA; Schema: public; Owner: rythm
--

COPY public.events_2026 (id, on_day) FROM stdin;
1	2026-02-01
\.

"#;

#[test]
fn tables_whose_rows_were_left_out_say_so_and_take_no_recorded_count() {
    let whole = read(PARTIAL_DUMP, PARTIAL_DUMP.len(), None);
    for piece in [1, 3, 64] {
        assert_eq!(read(PARTIAL_DUMP, piece, None), whole, "piece {piece}");
    }
    let of = |name: &str| {
        whole
            .tables
            .iter()
            .find(|t| t.name == name)
            .unwrap()
            .clone()
    };
    assert!(of("kept").has_data && of("empty").has_data);
    assert!(of("events").has_data, "its partition holds its rows");
    assert!(of("events_2026").has_data);
    assert!(!of("left_out").has_data);
    // A count recorded for every table (as earlier versions recorded them for a safety
    // backup) is never shown for a table whose rows are not there.
    let recorded: Vec<crate::catalog::row_counts::TableRows> = ["kept", "left_out"]
        .iter()
        .map(|t| crate::catalog::row_counts::TableRows {
            schema: "public".into(),
            table: (*t).into(),
            rows: 12_000,
        })
        .collect();
    let mut tables = whole.tables.clone();
    prefer_recorded(&mut tables, Some(&recorded));
    let left_out = tables.iter().find(|t| t.name == "left_out").unwrap();
    assert_eq!(
        (left_out.rows, left_out.rows_source),
        (0, RowsSource::Counted)
    );
    let kept = tables.iter().find(|t| t.name == "kept").unwrap();
    assert_eq!(
        (kept.rows, kept.rows_source),
        (12_000, RowsSource::Recorded)
    );
}
