//! The XML STS writes: escaping and the `GetWebIdentityToken` success document.

/// The namespace of every STS 2011-06-15 document.
pub(crate) const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// Escapes text for an XML element and replaces characters XML 1.0 cannot carry.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// The `<GetWebIdentityTokenResponse>` document the SDK's deserializer reads.
pub(crate) fn get_web_identity_token_response(
    token: &str,
    expiration: &str,
    request_id: &str,
) -> String {
    format!(
        "<GetWebIdentityTokenResponse xmlns=\"{NAMESPACE}\">\n  <GetWebIdentityTokenResult>\n    \
         <WebIdentityToken>{}</WebIdentityToken>\n    <Expiration>{}</Expiration>\n  \
         </GetWebIdentityTokenResult>\n  <ResponseMetadata>\n    <RequestId>{}</RequestId>\n  \
         </ResponseMetadata>\n</GetWebIdentityTokenResponse>\n",
        escape(token),
        escape(expiration),
        escape(request_id),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_control_characters_are_neutralised() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>\u{0}\u{1b}\n"),
            "&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;\u{FFFD}\u{FFFD}\n"
        );
        assert_eq!(escape("héllo wörld"), "héllo wörld");
    }
}
