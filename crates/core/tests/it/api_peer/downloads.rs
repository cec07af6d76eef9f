//! Downloads through the API client: without Range support (the RYTHM API) a resume starts
//! over, with it (our server) a resume continues; a wrong checksum or a cancel leaves no
//! file under the destination's name.

use super::*;

#[tokio::test]
async fn a_download_without_range_support_starts_over_and_ends_complete() {
    let peer = Peer::start().await;
    let c = signed_in(&peer).await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join(OLDER);
    // An earlier, broken run left a part; the peer ignores Range and sends everything.
    std::fs::write(part_path(&dest), b"left over from an earlier run").unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let outcome = c
        .download(
            &name(OLDER),
            dest.clone(),
            false,
            &Progress::new(tx),
            &Cancel::new(),
        )
        .await
        .unwrap();
    let expected = stored(&peer, OLDER);
    assert_eq!(
        std::fs::read(&dest).unwrap(),
        expected,
        "exactly one copy, no leftovers"
    );
    assert!(!part_path(&dest).exists());
    assert_eq!(outcome.size, expected.len() as u64);
    assert_eq!(outcome.sha256, sha256(&expected));
    assert_eq!(outcome.resumed_from, 0);
    assert_eq!(outcome.checksum_verified, None, "the peer lists no sha256");
    let downloads: Vec<_> = peer
        .backup_requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/download"))
        .collect();
    assert_eq!(downloads.len(), 1);
    assert_eq!(
        downloads[0].range.as_deref(),
        Some("bytes=29-"),
        "a resume was tried"
    );
    let mut notes = Vec::new();
    while let Ok(event) = rx.try_recv() {
        if let JobEvent::Note { message } = event {
            notes.push(message);
        }
    }
    assert!(
        notes.iter().any(|n| n.contains("cannot resume")),
        "{notes:?}"
    );
    // An existing file stays unless forced.
    let (older, none, cancel) = (name(OLDER), Progress::none(), Cancel::new());
    let again = c
        .download(&older, dest.clone(), false, &none, &cancel)
        .await;
    assert_eq!(again.unwrap_err().code(), ErrorCode::AlreadyExists);
    let forced = c.download(&older, dest.clone(), true, &none, &cancel).await;
    assert_eq!(forced.unwrap().size, expected.len() as u64);
}

#[tokio::test]
async fn a_download_from_our_server_resumes_with_range_and_checks_sha256() {
    let peer = Peer::start().await;
    peer.with(|s| s.ours = true);
    let c = signed_in(&peer).await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join(NEWER);
    let expected = stored(&peer, NEWER);
    std::fs::write(part_path(&dest), &expected[..100_000]).unwrap();
    let outcome = c
        .download(
            &name(NEWER),
            dest.clone(),
            false,
            &Progress::none(),
            &Cancel::new(),
        )
        .await
        .unwrap();
    assert_eq!(outcome.resumed_from, 100_000);
    assert_eq!(outcome.checksum_verified, Some(true));
    assert_eq!(std::fs::read(&dest).unwrap(), expected);

    // A break mid-body is retried from where it stopped.
    let dest = dir.path().join("again.sql");
    peer.with(|s| s.cut_next_download_after = Some(50_000));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let outcome = c
        .download(
            &name(NEWER),
            dest.clone(),
            false,
            &Progress::new(tx),
            &Cancel::new(),
        )
        .await
        .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), expected);
    assert_eq!(outcome.checksum_verified, Some(true));
    let mut retried = false;
    while let Ok(event) = rx.try_recv() {
        retried |= matches!(event, JobEvent::Retrying { .. });
    }
    assert!(retried);
    let last = peer.backup_requests().pop().unwrap();
    assert_eq!(last.range.as_deref(), Some("bytes=50000-"));
}

#[tokio::test]
async fn a_download_with_a_wrong_checksum_leaves_nothing() {
    let peer = Peer::start().await;
    peer.with(|s| {
        s.ours = true;
        s.wrong_sha256 = true;
    });
    let c = signed_in(&peer).await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join(OLDER);
    let error = c
        .download(
            &name(OLDER),
            dest.clone(),
            false,
            &Progress::none(),
            &Cancel::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::ChecksumMismatch, "{error}");
    assert!(!dest.exists() && !part_path(&dest).exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn a_cancelled_download_leaves_no_file() {
    let peer = Peer::start().await;
    let c = signed_in(&peer).await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join(OLDER);
    let cancel = Cancel::new();
    cancel.cancel();
    let error = c
        .download(
            &name(OLDER),
            dest.clone(),
            false,
            &Progress::none(),
            &cancel,
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::Cancelled);
    assert!(!Path::new(&dest).exists());
}
