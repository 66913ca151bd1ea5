// Internet Message Format for outgoing email: RFC 5322 headers (Date, Message-ID, folded
// lines), MIME multipart/alternative bodies in UTF-8 with quoted-printable or base64 transfer
// encoding, and RFC 2047 encoded words for non-ASCII header text. Header text with CR, LF or
// other control characters is refused, so no caller can inject headers. Pure functions,
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace factoryops::notify {

struct Mailbox {
  std::string display_name;  // may be empty
  std::string address;       // local@domain
};

// Checks a bare address (ASCII local@domain, no spaces, brackets, commas or control
// characters, at most 254 characters). Throws core::Invalid(field, why).
void check_address(std::string_view field, std::string_view address);

// Parses "Name <local@domain>", "\"Name\" <local@domain>" or "local@domain".
// Throws core::Invalid(field, why).
Mailbox parse_mailbox(std::string_view field, std::string_view text);

// Quoted-printable (RFC 2045 §6.7): CRLF line breaks, lines of at most 76 characters,
// trailing white space and a leading '.' encoded.
std::string encode_quoted_printable(std::string_view text);

// Base64 (RFC 2045 §6.8) in lines of 76 characters, each ended by CRLF.
std::string encode_base64_lines(std::string_view data);

// Header field text: unchanged (folded at spaces) when it is printable ASCII, otherwise RFC
// 2047 "=?UTF-8?B?…?=" words of at most 75 characters that never split a UTF-8 sequence,
// separated by CRLF SP. `name` is the field name, counted in the first line's length.
std::string encode_header_text(std::string_view name, std::string_view text);

// "Sat, 28 Nov 2026 09:05:03 +0000" for the instant `epoch_ms` (RFC 5322 §3.3, in UTC).
std::string rfc5322_date(std::int64_t epoch_ms);

struct MimeMessage {
  Mailbox from;
  std::vector<std::string> to;  // bare addresses
  std::string subject;
  std::string text;
  std::string html;        // empty: a single text/plain body
  std::string message_id;  // "<id@domain>"
  std::int64_t date_ms = 0;
  std::string boundary;  // must not occur in the encoded parts ("=_" + random hex never does)
};

// The whole message, CRLF line endings, ready for SMTP DATA. Throws core::Invalid naming
// "from", "to", "subject" or "message_id" when a header would be malformed or injectable.
std::string build_mime_message(const MimeMessage& message);

// A fresh "<random.time@domain>" Message-ID for a sender at `from_address`.
std::string make_message_id(std::string_view from_address, std::int64_t now_ms);

}  // namespace factoryops::notify
