//! Foreman's scoped-search language (`scoped_search` gem): the subset the
//! edge reads into a [`Filter`], and the query written for an upstream.
//!
//! Read: `field = value`, `name ~ value`, bare words and `"quoted words"`
//! (name contains), joined by `and`, `&`, `&&` or nothing. Values may be
//! double-quoted with backslash escapes. Everything else (`or`, `not`,
//! `!=`, `<`, `^`, parentheses, `set?`, unknown fields) is a 400
//! `ScopedSearch::QueryNotSupported`.

use std::borrow::Cow;

use super::fault::{QUERY_NOT_SUPPORTED, param_error};
use super::image::{
    ARCH_ID, CR_NAME, OS_ID, USER_DATA, USERNAME, is_decimal, shows_architecture, shows_id, shows_operatingsystem,
    shows_username,
};
use crate::model::{Filter, GatewayError, Shown};

/// Search fields that compare an extra exactly, and the extra they compare.
/// `architecture` and `operatingsystem` are ids in Foreman; `compute_resource`
/// is the compute resource's name.
const EXTRA_FIELDS: [(&str, &str); 5] = [
    ("username", USERNAME),
    ("compute_resource", CR_NAME),
    ("architecture", ARCH_ID),
    ("operatingsystem", OS_ID),
    ("user_data", USER_DATA),
];

#[derive(Debug, Clone, PartialEq)]
enum Token<'a> {
    Word(Cow<'a, str>),
    Quoted(String),
    And,
    Eq,
    Like,
    /// A part of the language the gateway does not read, by name.
    Unsupported(&'static str),
}

fn unsupported(message: String) -> GatewayError {
    param_error(message, QUERY_NOT_SUPPORTED, None)
}

/// Reads a search expression into `filter`, adding to what it holds.
pub(super) fn parse_into(search: &str, filter: &mut Filter) -> Result<(), GatewayError> {
    let mut tokens = tokenize(search).into_iter().peekable();
    while let Some(token) = tokens.next() {
        let term = match token {
            Token::And => continue,
            Token::Word(word) => word.into_owned(),
            Token::Quoted(text) => text,
            Token::Eq | Token::Like => return Err(unsupported("search has an operator without a field".into())),
            Token::Unsupported(what) => return Err(unsupported(format!("search syntax {what} is not supported"))),
        };
        let op = match tokens.peek() {
            Some(Token::Eq) => Token::Eq,
            Some(Token::Like) => Token::Like,
            _ => {
                set_once(&mut filter.name_like, term, "free text")?;
                continue;
            }
        };
        tokens.next();
        let value = match tokens.next() {
            Some(Token::Word(word)) => word.into_owned(),
            Some(Token::Quoted(text)) => text,
            _ => return Err(unsupported(format!("search field {term} has no value"))),
        };
        apply(filter, &term, &op, value)?;
    }
    Ok(())
}

fn apply(filter: &mut Filter, field: &str, op: &Token<'_>, value: String) -> Result<(), GatewayError> {
    match (field, op) {
        // the id the image shows: its own, or the integer derived from it
        ("id", Token::Eq) => {
            filter.shown.push(Shown::new("id", value, shows_id));
            Ok(())
        }
        ("name", Token::Eq) => set_once(&mut filter.name, value, "name"),
        ("name", Token::Like) => set_once(&mut filter.name_like, value, "name"),
        (field, op) => match EXTRA_FIELDS.iter().find(|(name, _)| *name == field) {
            Some((_, key)) if *op == Token::Eq => {
                // fields every image shows, judged on what it shows
                let shown = match *key {
                    OS_ID => Some(Shown::new("operatingsystem_id", value.clone(), shows_operatingsystem)),
                    ARCH_ID => Some(Shown::new("architecture_id", value.clone(), shows_architecture)),
                    USERNAME => Some(Shown::new("username", value.clone(), shows_username)),
                    _ => None,
                };
                match shown {
                    Some(condition) => filter.shown.push(condition),
                    None => {
                        let value = if *key == USER_DATA { boolean(&value)?.to_owned() } else { value };
                        filter.extra.push(((*key).to_owned(), value));
                    }
                }
                Ok(())
            }
            Some(_) => Err(unsupported(format!("search field {field} does not support ~"))),
            None if field == "id" => Err(unsupported("search field id does not support ~".into())),
            None => Err(unsupported(format!("field '{field}' not recognized for searching"))),
        },
    }
}

/// Fills a condition that can hold one value; the same value twice is fine.
fn set_once<T: PartialEq>(slot: &mut Option<T>, value: T, what: &str) -> Result<(), GatewayError> {
    match slot {
        Some(held) if *held != value => Err(unsupported(format!("search gives more than one {what} condition"))),
        _ => {
            *slot = Some(value);
            Ok(())
        }
    }
}

fn boolean(value: &str) -> Result<&'static str, GatewayError> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "t" | "yes" | "1" => Ok("true"),
        "false" | "f" | "no" | "0" => Ok("false"),
        _ => Err(unsupported(format!("value '{value}' is not valid for field 'user_data'"))),
    }
}

/// Splits an expression as `ScopedSearch::QueryLanguage::Tokenizer` does.
fn tokenize(search: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut rest = search;
    while let Some(c) = rest.chars().next() {
        let (token, len) = match c {
            c if c.is_whitespace() => {
                rest = &rest[c.len_utf8()..];
                continue;
            }
            '(' | ')' => (Token::Unsupported("parentheses"), 1),
            ',' => (Token::Unsupported("','"), 1),
            '&' | '|' | '=' | '<' | '>' | '^' | '!' | '~' | '-' => operator(rest),
            '"' => quoted(rest),
            _ => keyword(rest),
        };
        tokens.push(token);
        rest = &rest[len..];
    }
    tokens
}

/// An operator of one or two characters, and its length.
fn operator(s: &str) -> (Token<'_>, usize) {
    let two = match s.get(..2) {
        Some("&&") => Some(Token::And),
        Some("==") => Some(Token::Eq),
        Some("||") => Some(Token::Unsupported("'or'")),
        Some("!~") => Some(Token::Unsupported("'!~'")),
        Some("!=" | "<>") => Some(Token::Unsupported("'!='")),
        Some(">=" | "<=" | "!^") => Some(Token::Unsupported("comparisons")),
        _ => None,
    };
    if let Some(token) = two {
        return (token, 2);
    }
    let one = match s.as_bytes()[0] {
        b'&' => Token::And,
        b'=' => Token::Eq,
        b'~' => Token::Like,
        b'|' => Token::Unsupported("'or'"),
        b'-' | b'!' => Token::Unsupported("'not'"),
        _ => Token::Unsupported("comparisons"),
    };
    (one, 1)
}

/// A double-quoted string with backslash escapes; an unclosed one runs to the end.
fn quoted(s: &str) -> (Token<'_>, usize) {
    let mut text = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (Token::Quoted(text), i + 1),
            '\\' => text.extend(chars.next().map(|(_, escaped)| escaped)),
            c => text.push(c),
        }
    }
    (Token::Quoted(text), s.len())
}

/// A bare word, up to whitespace or one of `=~<>&|(),`.
fn keyword(s: &str) -> (Token<'_>, usize) {
    let len = s.find(|c: char| c.is_whitespace() || "=~<>&|(),".contains(c)).unwrap_or(s.len());
    let word = &s[..len];
    let token = match word.to_ascii_lowercase().as_str() {
        "and" => Token::And,
        "or" => Token::Unsupported("'or'"),
        "not" => Token::Unsupported("'not'"),
        "set?" | "has" | "null?" => Token::Unsupported("'set?'"),
        "before" | "after" | "at" => Token::Unsupported("comparisons"),
        _ => Token::Word(Cow::Borrowed(word)),
    };
    (token, len)
}

/// True when an upstream Foreman can apply this extra condition itself.
pub(super) fn is_native_extra(key: &str, value: &str) -> bool {
    match EXTRA_FIELDS.iter().find(|(_, k)| *k == key) {
        Some((_, k)) if *k == ARCH_ID || *k == OS_ID => is_decimal(value),
        Some((_, k)) if *k == USER_DATA => value == "true" || value == "false",
        Some(_) => true,
        None => false,
    }
}

/// The search expression for the native part of a filter (see
/// [`super::upstream::split_filter`]), or `None` when it has no condition.
pub(super) fn build(filter: &Filter) -> Option<String> {
    let mut search = String::new();
    let mut condition = |field: &str, op: &str, value: &str| {
        if !search.is_empty() {
            search.push_str(" and ");
        }
        search.push_str(field);
        search.push_str(op);
        push_quoted(&mut search, value);
    };
    if let Some(id) = &filter.id {
        condition("id", " = ", id.as_str());
    }
    if let Some(name) = &filter.name {
        condition("name", " = ", name);
    }
    if let Some(text) = &filter.name_like {
        condition("name", " ~ ", text);
    }
    for (key, value) in &filter.extra {
        if let Some((field, _)) = EXTRA_FIELDS.iter().find(|(_, k)| k == key) {
            condition(field, " = ", value);
        }
    }
    (!search.is_empty()).then_some(search)
}

fn push_quoted(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ErrorKind;

    fn parsed(search: &str) -> Filter {
        let mut filter = Filter::default();
        parse_into(search, &mut filter).unwrap();
        filter
    }

    fn rejected(search: &str) -> String {
        let mut filter = Filter::default();
        let err = parse_into(search, &mut filter).unwrap_err();
        assert_eq!(err.kind, ErrorKind::BadRequest, "{search}");
        err.message.into_owned()
    }

    fn extra(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn fields_map_onto_the_filter() {
        let filter = parsed(r#"id = 5 and name = "centos 1" && username=root architecture = 2 & operatingsystem == 3"#);
        assert_eq!(filter.shown[0], Shown::new("id", "5", shows_id));
        assert_eq!(filter.name.as_deref(), Some("centos 1"));
        assert!(filter.extra.is_empty());
        let shown = [
            Shown::new("id", "5", shows_id),
            Shown::new("username", "root", shows_username),
            Shown::new("architecture_id", "2", shows_architecture),
            Shown::new("operatingsystem_id", "3", shows_operatingsystem),
        ];
        assert_eq!(filter.shown, shown);
        let filter = parsed(r#"compute_resource = "big \"one\"" AND user_data = T"#);
        assert_eq!(filter.extra, extra(&[(CR_NAME, r#"big "one""#), (USER_DATA, "true")]));
    }

    #[test]
    fn like_and_bare_words_mean_name_contains() {
        assert_eq!(parsed("name ~ cent").name_like.as_deref(), Some("cent"));
        assert_eq!(parsed("centos-1").name_like.as_deref(), Some("centos-1"));
        assert_eq!(parsed(r#""centos 5""#).name_like.as_deref(), Some("centos 5"));
        assert_eq!(parsed("name~x name ~ x").name_like.as_deref(), Some("x"));
        assert_eq!(parsed(r#""unclosed"#).name_like.as_deref(), Some("unclosed"));
        assert_eq!(parsed("   "), Filter::default());
    }

    #[test]
    fn unsupported_syntax_is_refused() {
        assert_eq!(rejected("name = a or name = b"), "search syntax 'or' is not supported");
        assert_eq!(rejected("name = a || name = b"), "search syntax 'or' is not supported");
        assert_eq!(rejected("not name = a"), "search syntax 'not' is not supported");
        assert_eq!(rejected("-name = a"), "search syntax 'not' is not supported");
        assert_eq!(rejected("name != a"), "search syntax '!=' is not supported");
        assert_eq!(rejected("name !~ a"), "search syntax '!~' is not supported");
        assert_eq!(rejected("(name = a)"), "search syntax parentheses is not supported");
        assert_eq!(rejected("id > 3"), "search syntax comparisons is not supported");
        assert_eq!(rejected("id ^ (1,2)"), "search syntax comparisons is not supported");
        assert_eq!(rejected("set? name"), "search syntax 'set?' is not supported");
        assert_eq!(rejected("color = red"), "field 'color' not recognized for searching");
        assert_eq!(rejected("username ~ ro"), "search field username does not support ~");
        assert_eq!(rejected("id ~ 3"), "search field id does not support ~");
        assert_eq!(rejected("name ="), "search field name has no value");
        assert_eq!(rejected("= a"), "search has an operator without a field");
        assert_eq!(rejected("name = a name = b"), "search gives more than one name condition");
        assert_eq!(rejected("centos web"), "search gives more than one free text condition");
        assert_eq!(rejected("user_data = maybe"), "value 'maybe' is not valid for field 'user_data'");
    }

    #[test]
    fn built_searches_quote_every_value() {
        let filter = Filter {
            id: Some(crate::model::ImageId::new("5")),
            name: Some(r#"a "b" \c"#.into()),
            name_like: Some("cent".into()),
            extra: extra(&[(OS_ID, "3"), (USER_DATA, "false"), ("foreman.uuid", "x")]),
            ..Filter::default()
        };
        let search = build(&filter).unwrap();
        assert_eq!(
            search,
            r#"id = "5" and name = "a \"b\" \\c" and name ~ "cent" and operatingsystem = "3" and user_data = "false""#
        );
        assert_eq!(build(&Filter::default()), None);
    }

    #[test]
    fn built_searches_read_back_to_the_same_filter() {
        let filter = Filter {
            name: Some(r#"odd "name" and \ or"#.into()),
            extra: extra(&[(CR_NAME, "big cr")]),
            ..Filter::default()
        };
        assert_eq!(parsed(&build(&filter).unwrap()), filter);
    }

    #[test]
    fn native_extras_are_the_searchable_ones() {
        assert!(is_native_extra(OS_ID, "3"));
        assert!(!is_native_extra(OS_ID, "centos"));
        assert!(is_native_extra(USER_DATA, "true"));
        assert!(!is_native_extra(USER_DATA, "1"));
        assert!(is_native_extra(USERNAME, "anything"));
        assert!(!is_native_extra("foreman.uuid", "x"));
        assert!(!is_native_extra("gogrid.location", "1"));
    }
}
