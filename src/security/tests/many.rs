//! The codec's promises at volume (issue 15): 100,000 cases per property in every test run, for SIDs, ACEs,
//! ACLs, descriptors and SDDL text. Decoders never panic on any input, and what they accept round-trips.

use proptest::prelude::*;
use proptest::test_runner::Config;

use super::super::*;
use super::{ace_strategy, acl_strategy, descriptor_strategy, sid_strategy};

fn config() -> Config {
    Config {
        cases: 100_000,
        failure_persistence: None,
        ..Config::default()
    }
}

/// An SDDL-like string: real ACE strings cut, spliced and sprinkled with SDDL's own characters.
fn sddl_like() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "(",
        ")",
        ";",
        "A",
        "D",
        "OA",
        "OD",
        "AU",
        "CI",
        "IO",
        "ID",
        "NP",
        "OI",
        "CR",
        "RP",
        "WP",
        "GA",
        "0x",
        "0x1234",
        "S-1-",
        "S-1-5-21-1-2-3-1108",
        "S-1-5-",
        "-",
        "00299570-246d-11d0-a768-00aa006e0529",
        "bf967aba-0de6-11d0-a285-00aa003049e2",
        "SY",
        "BA",
        "WD",
        "",
        " ",
        "\u{0}",
        "é",
        "99999999999999999999",
    ]);
    prop::collection::vec(pieces, 0..24).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn sids_round_trip_as_bytes_and_text(sid in sid_strategy()) {
        let bytes = sid.to_bytes();
        prop_assert_eq!(Sid::from_bytes(&bytes).unwrap(), sid.clone());
        prop_assert_eq!(sid.to_string().parse::<Sid>().unwrap(), sid.clone());
        prop_assert_eq!(sddl::parse_sid(&sid.to_string()).unwrap(), sid);
    }

    #[test]
    fn sid_decoders_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..80), text in "\\PC{0,40}") {
        let _ = Sid::from_bytes(&bytes);
        let _ = text.parse::<Sid>();
        let _ = sddl::parse_sid(&text);
    }

    #[test]
    fn aces_round_trip_as_bytes_and_sddl(ace in ace_strategy()) {
        let bytes = ace.to_bytes().unwrap();
        let back = Ace::from_bytes(&bytes).unwrap();
        prop_assert_eq!(&back, &ace);
        // SDDL speaks for the ACEs it can express (not opaque bodies, not audit ACEs' success/failure bits).
        if let Ok(parsed) = parse_ace(&ace.to_string()) {
            prop_assert_eq!(parsed.to_bytes().unwrap(), bytes);
        }
    }

    #[test]
    fn ace_decoder_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..120)) {
        if let Ok(ace) = Ace::from_bytes(&bytes) {
            let _ = ace.to_string();
            let _ = ace.to_bytes();
        }
    }

    #[test]
    fn acls_round_trip_inside_a_descriptor(acl in acl_strategy()) {
        let sd = SecurityDescriptor::with_dacl(Control::DACL_PRESENT, acl.clone());
        let bytes = sd.to_bytes().unwrap();
        let back = SecurityDescriptor::from_bytes(&bytes).unwrap();
        prop_assert_eq!(back.dacl.as_ref(), Some(&acl));
        prop_assert_eq!(back.to_bytes().unwrap(), bytes);
    }

    #[test]
    fn descriptors_round_trip_and_render(sd in descriptor_strategy()) {
        let bytes = sd.to_bytes().unwrap();
        let back = SecurityDescriptor::from_bytes(&bytes).unwrap();
        prop_assert_eq!(back.to_bytes().unwrap(), bytes);
        let _ = back.to_string();
    }

    #[test]
    fn descriptor_decoder_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(sd) = SecurityDescriptor::from_bytes(&bytes) {
            let _ = sd.to_string();
            let _ = sd.to_bytes();
        }
    }

    #[test]
    fn sddl_parser_never_panics(text in sddl_like(), noise in "\\PC{0,60}") {
        for t in [&text, &noise] {
            if let Ok(ace) = parse_ace(t) {
                let again = parse_ace(&ace.to_string()).unwrap();
                prop_assert_eq!(again.to_bytes().unwrap(), ace.to_bytes().unwrap());
            }
        }
    }
}
