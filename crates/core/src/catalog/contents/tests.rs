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
