//! The app's own small JSON files (settings, local copies): read with a default when absent,
//! written atomically (a temporary file in the same folder, renamed over the old one).

use std::io::Write;
use std::path::Path;

use rythm_backup_core::ErrorCode;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{UiError, UiResult};

/// The file's content; `T::default()` when it does not exist yet.
pub fn read<T: DeserializeOwned + Default>(path: &Path) -> UiResult<T> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(T::default()),
        Err(e) => return Err(UiError::io("read", path, e)),
    };
    serde_json::from_str(&text).map_err(|e| {
        UiError::new(
            ErrorCode::Config,
            format!(
                "{} is damaged ({e}); move it away to start afresh",
                path.display()
            ),
        )
    })
}

pub fn write<T: Serialize>(path: &Path, value: &T) -> UiResult<()> {
    let dir = path
        .parent()
        .ok_or_else(|| UiError::internal(format!("{} has no folder", path.display())))?;
    std::fs::create_dir_all(dir).map_err(|e| UiError::io("create", dir, e))?;
    let mut json = serde_json::to_vec_pretty(value)
        .map_err(|e| UiError::internal(format!("cannot encode {}: {e}", path.display())))?;
    json.push(b'\n');
    let mut temp =
        tempfile::NamedTempFile::new_in(dir).map_err(|e| UiError::io("write", dir, e))?;
    temp.write_all(&json)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|e| UiError::io("write", temp.path(), e))?;
    temp.persist(path)
        .map_err(|e| UiError::io("replace", path, e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_is_default_and_writes_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/x.json");
        let empty: Vec<u32> = read(&path).unwrap();
        assert!(empty.is_empty());
        write(&path, &vec![1u32, 2]).unwrap();
        assert_eq!(read::<Vec<u32>>(&path).unwrap(), vec![1, 2]);
        std::fs::write(&path, "{").unwrap();
        assert_eq!(read::<Vec<u32>>(&path).unwrap_err().code, ErrorCode::Config);
    }
}
