//! pg_dump's object headers, the comment it writes before every object of a dump
//! (`-- Name: tenants; Type: TABLE; Schema: public; Owner: rythm`, and `-- Data for Name: …`
//! before a table's rows), read from the comment lines between statements.

/// One header: what kind of object follows, in which schema, under which name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Header {
    /// e.g. `TABLE`, `SEQUENCE`, `MATERIALIZED VIEW`, `FUNCTION`, `TABLE DATA`.
    pub kind: String,
    /// `None` for objects outside schemas (pg_dump writes `-`).
    pub schema: Option<String>,
    /// As pg_dump prints it: unquoted, with a function's argument types.
    pub name: String,
}

/// The header on `line` (without its line end), if it is one.
pub(super) fn parse(line: &str) -> Option<Header> {
    let rest = line.strip_prefix("-- ")?;
    let rest = rest.strip_prefix("Data for ").unwrap_or(rest);
    let rest = rest.strip_prefix("Name: ")?;
    let (name, rest) = rest.split_once("; Type: ")?;
    let (kind, rest) = rest.split_once("; Schema: ")?;
    let schema = match rest.split_once("; ") {
        Some((schema, _owner_and_more)) => schema,
        None => rest,
    };
    Some(Header {
        kind: kind.to_owned(),
        schema: (schema != "-").then(|| schema.to_owned()),
        name: name.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pg_dumps_headers() {
        assert_eq!(
            parse("-- Name: tenants; Type: TABLE; Schema: public; Owner: rythm"),
            Some(Header {
                kind: "TABLE".into(),
                schema: Some("public".into()),
                name: "tenants".into()
            })
        );
        let data = parse("-- Data for Name: Odd \"Quoted\" Table; Type: TABLE DATA; Schema: Mixed Case Schema; Owner: postgres").unwrap();
        assert_eq!(data.kind, "TABLE DATA");
        assert_eq!(data.schema.as_deref(), Some("Mixed Case Schema"));
        assert_eq!(data.name, "Odd \"Quoted\" Table");
        let ext = parse("-- Name: citext; Type: EXTENSION; Schema: -; Owner: -").unwrap();
        assert_eq!(ext.schema, None);
        let func = parse("-- Name: touch(integer, text); Type: FUNCTION; Schema: billing; Owner: x; Tablespace: ").unwrap();
        assert_eq!(func.name, "touch(integer, text)");
        assert_eq!(func.schema.as_deref(), Some("billing"));
        for not_a_header in [
            "--",
            "-- PostgreSQL database dump",
            "-- Name: x",
            "SELECT 1",
        ] {
            assert_eq!(parse(not_a_header), None, "{not_a_header}");
        }
    }
}
