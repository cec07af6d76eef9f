//! Benchmark helper (bench/run.sh): passes a psql script from stdin through the restore's
//! statement filter to stdout, to measure what the check costs by itself.
//!
//!     cargo run --release -p rythm-backup-core --example filter_sql < dump.sql > /dev/null
//!
//! Exits 1 with the refusal when the script holds a statement pg_dump never writes.

use std::io::{self, BufWriter, Read, Write};

use rythm_backup_core::jobs::sql_filter::SqlFilter;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let stdout = BufWriter::with_capacity(1 << 20, io::stdout().lock());
    let mut filter = SqlFilter::new(stdout);
    let mut input = io::stdin().lock();
    let mut buffer = vec![0u8; 256 * 1024];
    let result = (|| -> io::Result<()> {
        loop {
            let n = input.read(&mut buffer)?;
            if n == 0 {
                break;
            }
            filter.write_all(&buffer[..n])?;
        }
        filter.finish()
    })();
    if let Some(refused) = filter.refused() {
        return Err(format!("refused: {refused}").into());
    }
    result?;
    filter.into_inner().flush()?;
    Ok(())
}
