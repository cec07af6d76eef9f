//! Hostile backup names: slashes, backslashes, `..`, percent-encoding, control characters
//! and overlong names are refused by every command that takes a name, with `invalid_name`,
//! a one-line message, and nothing created, changed or deleted, neither in storage nor in
//! the working directory nor in the database.

use crate::support::{assert_single_line, snapshot, Cli, Storage, TestDb};

/// Names that must be refused; several would reach the real backup if joined naively.
fn hostile_names(store: &std::path::Path, real: &str) -> Vec<String> {
    let folder = store.file_name().unwrap().to_str().unwrap();
    vec![
        format!("../{folder}/{real}"),
        format!("{}/{real}", store.display()),
        format!("sub\\{real}"),
        format!("..\\{folder}\\{real}"),
        "backup..sql".to_owned(),
        format!("..%2F{folder}%2F{real}"),
        format!("sub%2F{real}"),
        format!("x\n{real}"),
        format!("{real}\n"),
        format!("x\u{7}{real}"),
        format!("{}.sql", "a".repeat(996)),
    ]
}

/// Every command that takes a name, as argument lists with NAME standing for it.
const COMMANDS: [&[&str]; 4] = [
    &["download", "NAME"],
    &["delete", "NAME", "--yes"],
    &["verify", "NAME"],
    &["restore", "NAME", "--confirm", "x"],
];

#[test]
fn every_command_refuses_hostile_names_and_touches_nothing() {
    let db = TestDb::create();
    db.psql("CREATE TABLE items (id int); INSERT INTO items VALUES (1), (2), (3)");
    let storage = Storage::local();
    let store = storage.dir().unwrap().to_owned();
    let cli = Cli::new(&db, &storage);
    let real = cli.run(&["backup", "--json"]).json()["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = snapshot(&store);
    assert_eq!(before.len(), 2, "the backup and its sidecar: {before:?}");

    let names = hostile_names(&store, &real);
    assert_eq!(names.last().unwrap().chars().count(), 1000);
    let mut runs = 0;
    for name in &names {
        for command in COMMANDS {
            let args: Vec<&str> = command
                .iter()
                .map(|a| if *a == "NAME" { name.as_str() } else { a })
                .collect();

            let mut json_args = args.clone();
            json_args.push("--json");
            let out = cli.run(&json_args);
            let error = out.json_error(1);
            assert_eq!(error["code"], "invalid_name", "{args:?}: {out:#?}");

            let human = cli.run(&args);
            assert_eq!(human.code, Some(1), "{args:?}: {human:#?}");
            assert_single_line(&human.stderr);
            assert!(human.stderr.starts_with("error: "), "{human:#?}");
            assert!(
                !human.stderr.trim_end().chars().any(char::is_control),
                "no control characters reach the terminal: {:?}",
                human.stderr
            );
            assert!(human.stdout.is_empty(), "{human:#?}");

            assert_eq!(
                snapshot(&store),
                before,
                "{args:?} changed the backup folder"
            );
            assert!(
                snapshot(cli.cwd()).is_empty(),
                "{args:?} wrote into the working directory: {:?}",
                snapshot(cli.cwd())
            );
            runs += 2;
        }
    }
    assert_eq!(runs, names.len() * COMMANDS.len() * 2);
    assert_eq!(db.count("items"), 3, "the database is untouched");
    assert_eq!(cli.list_names(), [real], "the real backup is still listed");
}

/// The same refusal in front of Azure: nothing is deleted from the container.
#[test]
fn hostile_names_never_reach_azure() {
    let db = TestDb::create();
    db.psql("CREATE TABLE items (id int); INSERT INTO items VALUES (1)");
    let storage = Storage::azure();
    let cli = Cli::new(&db, &storage);
    let real = cli.run(&["backup", "--json"]).json()["name"]
        .as_str()
        .unwrap()
        .to_owned();
    for name in [
        format!("../{real}"),
        format!("x/../{real}"),
        format!("%2E%2E%2F{real}"),
        format!("{real}?comp=list"),
        format!("{real}#x"),
    ] {
        for command in COMMANDS {
            let mut args: Vec<&str> = command
                .iter()
                .map(|a| if *a == "NAME" { name.as_str() } else { a })
                .collect();
            args.push("--json");
            let out = cli.run(&args);
            assert_eq!(out.error_code(), "invalid_name", "{args:?}");
            assert!(snapshot(cli.cwd()).is_empty(), "{args:?}");
        }
    }
    assert_eq!(cli.list_names(), [real]);
}
