//! Route patterns of access rules: parsing, matching a request, and turning them into the
//! wildcard resources of an API Gateway policy.
//!
//! A pattern is `METHOD /path` (METHOD may be `ANY`) or `*` for every route. Inside the path, a
//! segment that is exactly `*` matches one segment, and a `*` at the very end matches the rest
//! (`/orders/*` every path below `/orders/`, `/orders*` every path starting with `/orders`).
//!
//! API Gateway evaluates policy resources with IAM wildcards, where `*` also matches `/`. So a
//! one-segment wildcard cannot be written exactly as a resource: `GET/a/*/c` also matches
//! `GET/a/x/y/c`. [`PathPattern::overflow_globs`] names what such a resource allows beyond the
//! pattern, for the policy to deny again, and [`PathPattern::overflow_meets`] tells when such a
//! deny would also hit a path another pattern allows.

use std::fmt;

/// The HTTP methods API Gateway routes; `ANY` stands for all of them.
pub const METHODS: [&str; 7] = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"];

/// The longest route pattern accepted, in bytes.
pub const MAX_ROUTE_LEN: usize = 512;

/// Why a text is not a route pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RouteError {
    /// The text is neither `*` nor `METHOD /path` with one space between.
    #[error("expected \"METHOD /path\" or \"*\"")]
    Format,
    /// The method is not an upper-case HTTP method API Gateway routes, nor `ANY`.
    #[error("unknown method {0:?}; use one of ANY, DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT")]
    Method(String),
    /// The path does not start with `/`.
    #[error("path must start with /")]
    NotAbsolute,
    /// The pattern is longer than [`MAX_ROUTE_LEN`].
    #[error("route is longer than {MAX_ROUTE_LEN} bytes")]
    TooLong,
    /// Two slashes follow each other.
    #[error("path has an empty segment (//)")]
    EmptySegment,
    /// A `*` is neither a whole segment nor the last character.
    #[error("* must be a whole segment or end the path")]
    MisplacedWildcard,
    /// A `{name}` template: requests carry real values, so it would never match.
    #[error("{{parameter}} segments never match a request; use * for one segment")]
    Template,
    /// A character outside the URL path characters (or a `?`, which IAM treats as a wildcard).
    #[error("path holds {0:?}, which is not allowed in a route")]
    Character(char),
}

/// One method or all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MethodPattern {
    /// `ANY`: every method in [`METHODS`].
    Any,
    /// One method from [`METHODS`].
    One(&'static str),
}

impl MethodPattern {
    fn parse(text: &str) -> Result<Self, RouteError> {
        if text == "ANY" {
            return Ok(Self::Any);
        }
        METHODS
            .iter()
            .find(|method| **method == text)
            .map(|method| Self::One(method))
            .ok_or_else(|| RouteError::Method(text.to_owned()))
    }

    /// Whether the pattern covers `method`.
    pub fn matches(self, method: &str) -> bool {
        match self {
            Self::Any => METHODS.contains(&method),
            Self::One(one) => one == method,
        }
    }

    /// The concrete methods the pattern covers, as they appear in method ARNs.
    pub fn expand(self) -> &'static [&'static str] {
        match self {
            Self::Any => &METHODS,
            Self::One(one) => {
                let index = METHODS
                    .iter()
                    .position(|method| *method == one)
                    .unwrap_or(0);
                &METHODS[index..=index]
            }
        }
    }

    /// Whether some method is covered by both patterns.
    pub fn overlaps(self, other: Self) -> bool {
        match (self, other) {
            (Self::One(a), Self::One(b)) => a == b,
            _ => true,
        }
    }

    fn covers(self, other: Self) -> bool {
        self == Self::Any || self == other
    }
}

/// A piece of a path pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Piece {
    /// Literal text (slashes included).
    Literal(String),
    /// Exactly one segment: any run of characters without `/`.
    Segment,
    /// The rest of the path, whatever it holds; always the last piece.
    Rest,
}

/// The path part of a route pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PathPattern {
    pieces: Vec<Piece>,
}

impl PathPattern {
    fn parse(path: &str) -> Result<Self, RouteError> {
        let Some(body) = path.strip_prefix('/') else {
            return Err(RouteError::NotAbsolute);
        };
        let segments: Vec<&str> = body.split('/').collect();
        let mut pieces = Vec::new();
        let mut literal = String::from("/");
        for (index, segment) in segments.iter().enumerate() {
            let last = index + 1 == segments.len();
            if index > 0 {
                literal.push('/');
            }
            if segment.is_empty() && !last {
                return Err(RouteError::EmptySegment);
            }
            if *segment == "*" && !last {
                pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                pieces.push(Piece::Segment);
                continue;
            }
            let (text, rest) = match segment.strip_suffix('*') {
                Some(text) if last => (text, true),
                _ => (*segment, false),
            };
            check_literal(text)?;
            literal.push_str(text);
            if rest {
                pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                pieces.push(Piece::Rest);
            }
        }
        if !literal.is_empty() {
            pieces.push(Piece::Literal(literal));
        }
        Ok(Self { pieces })
    }

    /// Whether the request path (starting with `/`) matches the pattern.
    pub fn matches(&self, path: &str) -> bool {
        let mut left = path;
        for piece in &self.pieces {
            match piece {
                Piece::Literal(text) => match left.strip_prefix(text.as_str()) {
                    Some(after) => left = after,
                    None => return false,
                },
                // A segment piece is always followed by a literal starting with `/`, so taking
                // everything up to the next `/` is the only way to continue.
                Piece::Segment => left = &left[left.find('/').unwrap_or(left.len())..],
                Piece::Rest => return true,
            }
        }
        left.is_empty()
    }

    /// The IAM wildcard for the pattern's resource, after `.../<METHOD>`; it may allow more than
    /// the pattern when the pattern has one-segment wildcards.
    pub fn glob(&self) -> String {
        self.glob_widening(None)
    }

    /// Whether the resource glob allows exactly the pattern's paths.
    pub fn is_exact_glob(&self) -> bool {
        !self.pieces.contains(&Piece::Segment)
    }

    /// Whether the pattern matches every path.
    pub fn is_everything(&self) -> bool {
        self.pieces == [Piece::Literal("/".into()), Piece::Rest]
    }

    /// Resources that cover what [`Self::glob`] allows beyond the pattern: for each one-segment
    /// wildcard, the glob with that wildcard spanning at least one `/`.
    pub fn overflow_globs(&self) -> Vec<String> {
        self.segment_positions()
            .map(|at| self.glob_widening(Some(at)))
            .collect()
    }

    /// Whether one of this pattern's overflow globs matches a path that `other` matches, in
    /// which case denying the overflow would take away a path `other` allows.
    pub fn overflow_meets(&self, other: &PathPattern) -> bool {
        let allowed = other.atoms(Widen::No, Run::OneSegment);
        self.segment_positions().any(|at| {
            let denied = self.atoms(Widen::At(at), Run::Anything);
            intersects(&denied, &allowed)
        })
    }

    /// Whether every path this pattern matches is matched by `wider` too, judged on the
    /// common shape `/prefix*`; other shapes are reported as not covered.
    pub fn covered_by(&self, wider: &PathPattern) -> bool {
        match (wider.pieces.as_slice(), self.pieces.first()) {
            ([Piece::Literal(prefix), Piece::Rest], Some(Piece::Literal(mine))) => {
                mine.starts_with(prefix.as_str())
            }
            _ => false,
        }
    }

    fn segment_positions(&self) -> impl Iterator<Item = usize> + '_ {
        self.pieces
            .iter()
            .enumerate()
            .filter(|(_, p)| **p == Piece::Segment)
            .map(|(at, _)| at)
    }

    fn glob_widening(&self, widen: Option<usize>) -> String {
        let mut glob = String::new();
        for (at, piece) in self.pieces.iter().enumerate() {
            match piece {
                Piece::Literal(text) => glob.push_str(text),
                Piece::Segment if widen == Some(at) => glob.push_str("*/*"),
                Piece::Segment | Piece::Rest => glob.push('*'),
            }
        }
        glob
    }

    fn atoms(&self, widen: Widen, segment: Run) -> Vec<Atom> {
        let mut atoms = Vec::new();
        for (at, piece) in self.pieces.iter().enumerate() {
            match piece {
                Piece::Literal(text) => atoms.extend(text.chars().map(Atom::Char)),
                Piece::Segment if widen == Widen::At(at) => {
                    atoms.extend([
                        Atom::Run(Run::Anything),
                        Atom::Char('/'),
                        Atom::Run(Run::Anything),
                    ]);
                }
                Piece::Segment => atoms.push(Atom::Run(segment)),
                Piece::Rest => atoms.push(Atom::Run(Run::Anything)),
            }
        }
        atoms
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Widen {
    No,
    At(usize),
}

/// A repeatable character class: IAM's `*`, or a route's one-segment wildcard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Run {
    Anything,
    OneSegment,
}

impl Run {
    fn accepts(self, c: char) -> bool {
        self == Self::Anything || c != '/'
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Atom {
    Char(char),
    Run(Run),
}

/// Whether some string matches both atom sequences.
///
/// Walks the pairs of positions (one in each sequence) reachable by reading the same string;
/// there are at most `(a + 1) * (b + 1)` of them, so the cost is bounded and no input can make it
/// explode.
fn intersects(a: &[Atom], b: &[Atom]) -> bool {
    let width = b.len() + 1;
    let mut seen = vec![false; (a.len() + 1) * width];
    let mut pending = vec![(0, 0)];
    while let Some((i, j)) = pending.pop() {
        if std::mem::replace(&mut seen[i * width + j], true) {
            continue;
        }
        if i == a.len() && j == b.len() {
            return true;
        }
        if let Some(Atom::Run(_)) = a.get(i) {
            pending.push((i + 1, j));
        }
        if let Some(Atom::Run(_)) = b.get(j) {
            pending.push((i, j + 1));
        }
        match (a.get(i), b.get(j)) {
            (Some(Atom::Char(x)), Some(Atom::Char(y))) if x == y => pending.push((i + 1, j + 1)),
            (Some(Atom::Char(x)), Some(Atom::Run(run))) if run.accepts(*x) => {
                pending.push((i + 1, j));
            }
            (Some(Atom::Run(run)), Some(Atom::Char(y))) if run.accepts(*y) => {
                pending.push((i, j + 1));
            }
            _ => {}
        }
    }
    false
}

fn check_literal(text: &str) -> Result<(), RouteError> {
    for c in text.chars() {
        match c {
            '*' => return Err(RouteError::MisplacedWildcard),
            '{' | '}' => return Err(RouteError::Template),
            // RFC 3986 path characters (pchar), minus `?` which IAM reads as a wildcard.
            'A'..='Z' | 'a'..='z' | '0'..='9' => {}
            '-' | '.' | '_' | '~' | '!' | '$' | '&' | '\'' | '(' | ')' | '+' | ',' | ';' | '='
            | ':' | '@' | '%' => {}
            other => return Err(RouteError::Character(other)),
        }
    }
    Ok(())
}

/// A route pattern of an access rule.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RoutePattern {
    text: String,
    method: MethodPattern,
    path: PathPattern,
}

impl RoutePattern {
    /// Parses `*` or `METHOD /path`.
    ///
    /// # Errors
    ///
    /// A [`RouteError`] naming what does not fit.
    pub fn parse(text: &str) -> Result<Self, RouteError> {
        if text.len() > MAX_ROUTE_LEN {
            return Err(RouteError::TooLong);
        }
        if text == "*" {
            let path = PathPattern::parse("/*")?;
            return Ok(Self {
                text: text.to_owned(),
                method: MethodPattern::Any,
                path,
            });
        }
        let Some((method, path)) = text.split_once(' ') else {
            return Err(RouteError::Format);
        };
        if path.starts_with(' ') {
            return Err(RouteError::Format);
        }
        let method = MethodPattern::parse(method)?;
        let path = PathPattern::parse(path)?;
        Ok(Self {
            text: text.to_owned(),
            method,
            path,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The method part.
    pub fn method(&self) -> MethodPattern {
        self.method
    }

    /// The path part.
    pub fn path(&self) -> &PathPattern {
        &self.path
    }

    /// Whether a request for `route` matches.
    pub fn matches(&self, route: &Route) -> bool {
        self.method.matches(&route.method) && self.path.matches(&route.path)
    }

    /// Whether the pattern matches every route.
    pub fn is_everything(&self) -> bool {
        self.method == MethodPattern::Any && self.path.is_everything()
    }

    /// Whether every route this pattern matches is matched by `wider` (on the shapes
    /// [`PathPattern::covered_by`] recognises).
    pub fn covered_by(&self, wider: &RoutePattern) -> bool {
        wider.method.covers(self.method) && self.path.covered_by(&wider.path)
    }
}

impl fmt::Debug for RoutePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.text, f)
    }
}

impl fmt::Display for RoutePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The route of one request: a method from [`METHODS`] and a path starting with `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The HTTP method, upper case.
    pub method: String,
    /// The request path below the stage, starting with `/`.
    pub path: String,
}

impl Route {
    /// A route from its parts.
    pub fn new(method: impl Into<String>, path: impl Into<String>) -> Self {
        Self {
            method: method.into(),
            path: path.into(),
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(text: &str) -> RoutePattern {
        RoutePattern::parse(text).unwrap()
    }

    fn allows(text: &str, method: &str, path: &str) -> bool {
        pattern(text).matches(&Route::new(method, path))
    }

    #[test]
    fn literal_route_matches_only_its_method_and_path() {
        assert!(allows("GET /hello", "GET", "/hello"));
        assert!(!allows("GET /hello", "POST", "/hello"));
        assert!(!allows("GET /hello", "GET", "/hello/admin"));
        assert!(!allows("GET /hello", "GET", "/hell"));
        assert!(!allows("GET /hello", "GET", "/hello/"));
    }

    #[test]
    fn any_method_covers_every_routed_method_only() {
        for method in METHODS {
            assert!(allows("ANY /hello", method, "/hello"));
        }
        assert!(!allows("ANY /hello", "TRACE", "/hello"));
        assert!(!allows("ANY /hello", "get", "/hello"));
    }

    #[test]
    fn star_segment_matches_exactly_one_segment() {
        assert!(allows("GET /orders/*/items", "GET", "/orders/42/items"));
        assert!(!allows("GET /orders/*/items", "GET", "/orders/4/2/items"));
        assert!(!allows("GET /orders/*/items", "GET", "/orders/42/items/x"));
        assert!(allows("GET /*/items", "GET", "/a/items"));
    }

    #[test]
    fn trailing_star_matches_the_rest() {
        assert!(allows("GET /orders/*", "GET", "/orders/42"));
        assert!(allows("GET /orders/*", "GET", "/orders/42/items"));
        assert!(allows("GET /orders/*", "GET", "/orders/"));
        assert!(!allows("GET /orders/*", "GET", "/orders"));
        assert!(allows("GET /orders*", "GET", "/orders"));
        assert!(allows("GET /orders*", "GET", "/orders-archive/1"));
        assert!(!allows("GET /orders*", "GET", "/order"));
    }

    #[test]
    fn lone_star_matches_every_route() {
        let everything = pattern("*");
        assert!(everything.is_everything());
        assert!(everything.matches(&Route::new("DELETE", "/a/b/c")));
        assert!(everything.matches(&Route::new("GET", "/")));
        assert!(pattern("ANY /*").is_everything());
        assert!(!pattern("GET /*").is_everything());
    }

    #[test]
    fn root_route_matches_only_the_root() {
        assert!(allows("GET /", "GET", "/"));
        assert!(!allows("GET /", "GET", "/x"));
    }

    #[test]
    fn malformed_routes_are_rejected_with_their_reason() {
        let cases = [
            ("", RouteError::Format),
            ("GET", RouteError::Format),
            ("GET  /x", RouteError::Format),
            ("get /x", RouteError::Method("get".into())),
            ("TRACE /x", RouteError::Method("TRACE".into())),
            ("GET x", RouteError::NotAbsolute),
            ("GET /a//b", RouteError::EmptySegment),
            ("GET /a/b*c/d", RouteError::MisplacedWildcard),
            ("GET /a/*b", RouteError::MisplacedWildcard),
            ("GET /a/**", RouteError::MisplacedWildcard),
            ("GET /orders/{id}", RouteError::Template),
            ("GET /a?b", RouteError::Character('?')),
            ("GET /a b", RouteError::Character(' ')),
            ("GET /é", RouteError::Character('é')),
        ];
        for (text, reason) in cases {
            assert_eq!(RoutePattern::parse(text), Err(reason), "{text:?}");
        }
        let long = format!("GET /{}", "a".repeat(MAX_ROUTE_LEN));
        assert_eq!(RoutePattern::parse(&long), Err(RouteError::TooLong));
    }

    #[test]
    fn globs_follow_the_pattern() {
        assert_eq!(pattern("GET /hello").path().glob(), "/hello");
        assert_eq!(pattern("GET /orders/*").path().glob(), "/orders/*");
        assert_eq!(pattern("GET /a/*/c").path().glob(), "/a/*/c");
        assert_eq!(pattern("GET /").path().glob(), "/");
        assert!(pattern("GET /orders/*").path().is_exact_glob());
        assert!(!pattern("GET /a/*/c").path().is_exact_glob());
    }

    #[test]
    fn overflow_globs_widen_each_segment_wildcard() {
        assert_eq!(
            pattern("GET /a/*/c/*/e").path().overflow_globs(),
            ["/a/*/*/c/*/e", "/a/*/c/*/*/e"]
        );
        assert!(pattern("GET /a/*").path().overflow_globs().is_empty());
    }

    #[test]
    fn overflow_meets_a_pattern_that_allows_deeper_paths() {
        let one = pattern("GET /a/*/c");
        assert!(one.path().overflow_meets(pattern("GET /a/*/*/c").path()));
        assert!(one.path().overflow_meets(pattern("GET /a/x/*").path()));
        assert!(!one.path().overflow_meets(one.path()));
        assert!(!one.path().overflow_meets(pattern("GET /a/*/d").path()));
        assert!(!one.path().overflow_meets(pattern("GET /b/*").path()));
    }

    #[test]
    fn segment_wildcard_before_rest_meets_its_own_overflow() {
        let mixed = pattern("GET /a/*/b/*");
        assert!(mixed.path().overflow_meets(mixed.path()));
    }

    #[test]
    fn prefix_patterns_cover_narrower_ones() {
        assert!(pattern("GET /orders/1").covered_by(&pattern("GET /orders/*")));
        assert!(pattern("GET /orders/*/x").covered_by(&pattern("ANY /orders/*")));
        assert!(!pattern("ANY /orders/1").covered_by(&pattern("GET /orders/*")));
        assert!(!pattern("GET /order").covered_by(&pattern("GET /orders/*")));
        assert!(pattern("POST /x").covered_by(&pattern("*")));
    }

    #[test]
    fn long_patterns_compare_quickly() {
        let deep = format!("GET /{}x", "*/".repeat(120));
        let deep = pattern(&deep);
        let started = std::time::Instant::now();
        assert!(deep.path().overflow_meets(pattern("GET /*").path()));
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }
}
