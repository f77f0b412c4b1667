#![no_main]

use dragoman::dialect::Dialect;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    dragoman::fuzzing::edge_request(Dialect::OpenStack, data);
});
