//! Content sniffing: what the first bytes of a backup say about its compression and dump
//! format, so legacy blobs, renamed files and local copies restore whatever their name says.

use super::name::{Compression, DumpFormat};

/// How many leading bytes the sniffers need.
pub const SNIFF_LEN: usize = 5;

/// The compression of a stream from its magic number.
pub fn sniff_compression(head: &[u8]) -> Compression {
    match head {
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
        [0x1f, 0x8b, ..] => Compression::Gzip,
        _ => Compression::None,
    }
}

/// The dump format of an uncompressed stream: custom archives start with `PGDMP`.
pub fn sniff_format(head: &[u8]) -> DumpFormat {
    if head.starts_with(b"PGDMP") {
        DumpFormat::Custom
    } else {
        DumpFormat::Plain
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_magic_numbers() {
        assert_eq!(
            sniff_compression(&[0x28, 0xb5, 0x2f, 0xfd, 0]),
            Compression::Zstd
        );
        assert_eq!(sniff_compression(&[0x1f, 0x8b, 8]), Compression::Gzip);
        assert_eq!(sniff_compression(b"--\n-- PostgreSQL"), Compression::None);
        assert_eq!(sniff_compression(b""), Compression::None);
        assert_eq!(sniff_format(b"PGDMP\x01"), DumpFormat::Custom);
        assert_eq!(sniff_format(b"--\n"), DumpFormat::Plain);
    }
}
