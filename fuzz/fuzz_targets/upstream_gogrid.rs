#![no_main]

use dragoman::dialect::Dialect;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    dragoman::fuzzing::upstream_reply(Dialect::GoGrid, data);
});
