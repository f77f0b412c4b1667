//! The fuzz targets' bodies (`src/fuzzing.rs`) on stable: each over the
//! fixtures as its corpus, then a few thousand inputs mutated from them and
//! generated at random. `fuzz/` runs the same bodies under libFuzzer.

use dragoman::dialect::Dialect;
use dragoman::fuzzing;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Every fixture of `dialect` (all of them for `None`), as bytes.
fn corpus(dialect: Option<Dialect>) -> Vec<Vec<u8>> {
    let root = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(&root)];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if dialect.is_none_or(|d| path.starts_with(format!("{root}/{}", d.name()))) {
                files.push(std::fs::read(path).unwrap());
            }
        }
    }
    files.sort();
    files
}

/// Runs `target` over the corpus, then over `cases` inputs: corpus entries
/// with bytes flipped, cut or spliced, and random bytes.
fn smoke(corpus: &[Vec<u8>], cases: u32, target: impl Fn(&[u8])) {
    for input in corpus {
        target(input);
    }
    let seeds = corpus.to_vec();
    let input = (0..seeds.len().max(1), any::<Vec<(usize, u8)>>(), any::<usize>(), any::<Vec<u8>>()).prop_map(
        move |(pick, flips, cut, random)| {
            let Some(seed) = seeds.get(pick) else { return random };
            let mut bytes = seed.clone();
            for (at, byte) in flips {
                if !bytes.is_empty() {
                    let at = at % bytes.len();
                    bytes[at] = byte;
                }
            }
            if cut % 3 == 0 {
                bytes.truncate(cut % (bytes.len() + 1));
            } else if cut % 3 == 1 {
                bytes.extend_from_slice(&random);
            }
            bytes
        },
    );
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    runner
        .run(&prop_oneof![input, any::<Vec<u8>>()], |bytes| {
            target(&bytes);
            Ok(())
        })
        .unwrap();
}

#[test]
fn edge_requests() {
    for dialect in Dialect::ALL {
        smoke(&corpus(Some(dialect)), 1000, |data| fuzzing::edge_request(dialect, data));
    }
}

#[test]
fn upstream_replies() {
    for dialect in Dialect::ALL {
        smoke(&corpus(Some(dialect)), 1000, |data| fuzzing::upstream_reply(dialect, data));
    }
}

#[test]
fn foreman_search() {
    let searches: Vec<Vec<u8>> =
        ["name = centos", "name ~ cent and os = 1", "(a=1 or b!=2) and not c ^ (1,2)", "uuid = \"x y\""]
            .map(|s| s.as_bytes().to_vec())
            .to_vec();
    smoke(&searches, 2000, fuzzing::foreman_search);
}

#[test]
fn keystone_bodies() {
    let bodies = vec![
        br#"{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"demo","domain":{"id":"default"},"password":"demo"}}},"scope":{"project":{"name":"demo","domain":{"id":"default"}}}}}"#.to_vec(),
        br#"{"auth":{"identity":{"methods":["token"]}}}"#.to_vec(),
    ];
    smoke(&bodies, 2000, fuzzing::keystone_body);
}

#[test]
fn config_files() {
    let example = std::fs::read(format!("{}/config/dragoman.example.toml", env!("CARGO_MANIFEST_DIR"))).unwrap();
    smoke(&[example, b"[server]\nlisten = \"127.0.0.1:0\"\n".to_vec()], 2000, fuzzing::config_file);
}
