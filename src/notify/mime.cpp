#include "notify/mime.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>

#include "auth/crypto.hpp"
#include "core/errors.hpp"

namespace factoryops::notify {
namespace {

// RFC 5322 §2.1.1: lines SHOULD stay within 78 characters (without CRLF).
constexpr std::size_t kFoldColumn = 78;
// RFC 2045 §6.7: encoded lines of at most 76 characters, so at most 75 before a soft break's '='.
constexpr std::size_t kQuotedPrintableColumn = 75;
// 39 bytes make 52 base64 characters: "=?UTF-8?B?" + 52 + "?=" is 64, within the 75 that RFC
// 2047 §2 allows for an encoded word, and "Subject: " plus one word stays within 78.
constexpr std::size_t kEncodedWordBytes = 39;
constexpr std::size_t kMaxAddressLength = 254;
constexpr std::size_t kMaxLocalPartLength = 64;

constexpr char kHex[] = "0123456789ABCDEF";
constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

bool is_control(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

// Header text reaches the wire as-is: a CR or LF in it would start a new header line.
void check_header_text(std::string_view field, std::string_view text) {
  for (unsigned char c : text) {
    if (is_control(c))
      throw core::Invalid(std::string(field), "must not contain line breaks or control characters");
  }
}

bool is_ascii(std::string_view text) {
  for (unsigned char c : text) {
    if (c >= 0x80) return false;
  }
  return true;
}

std::string base64(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    auto n = static_cast<std::uint32_t>(static_cast<unsigned char>(data[i])) << 16 |
             static_cast<std::uint32_t>(static_cast<unsigned char>(data[i + 1])) << 8 |
             static_cast<std::uint32_t>(static_cast<unsigned char>(data[i + 2]));
    out += kBase64[(n >> 18) & 63];
    out += kBase64[(n >> 12) & 63];
    out += kBase64[(n >> 6) & 63];
    out += kBase64[n & 63];
  }
  if (std::size_t rest = data.size() - i; rest > 0) {
    std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(data[i])) << 16;
    if (rest == 2) n |= static_cast<std::uint32_t>(static_cast<unsigned char>(data[i + 1])) << 8;
    out += kBase64[(n >> 18) & 63];
    out += kBase64[(n >> 12) & 63];
    out += rest == 2 ? kBase64[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string encoded_words(std::string_view text) {
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = std::min(text.size(), pos + kEncodedWordBytes);
    // Back off to the start of a UTF-8 sequence so that no word carries half a character
    // (RFC 2047 §5 requires each encoded word to stand alone).
    while (end < text.size() && end > pos + 1 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80)
      --end;
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64(text.substr(pos, end - pos)) + "?=";
    pos = end;
  }
  return out;
}

// Joins tokens with `separator`, starting a continuation line (CRLF SP) before a token that
// would pass the fold column. `column` is where the first token starts.
std::string fold(const std::vector<std::string_view>& tokens, std::string_view separator,
                 std::size_t column) {
  std::string out;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (i == 0) {
      out += tokens[i];
      column += tokens[i].size();
      continue;
    }
    // Folding replaces the space of the separator by CRLF SP, so unfolding restores it.
    std::string_view head = separator.substr(0, separator.size() - 1);
    if (column + separator.size() + tokens[i].size() > kFoldColumn) {
      out += head;
      out += "\r\n ";
      column = 1;
    } else {
      out += separator;
      column += separator.size();
    }
    out += tokens[i];
    column += tokens[i].size();
  }
  return out;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t at = text.find(separator, start);
    if (at == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, at - start));
    start = at + 1;
  }
}

bool is_atext_or_space(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view(" !#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

std::string format_mailbox(const Mailbox& box) {
  if (box.display_name.empty()) return box.address;
  const std::string& name = box.display_name;
  std::string shown;
  if (!is_ascii(name) || name.find("=?") != std::string::npos) {
    shown = encoded_words(name);
  } else if (std::all_of(name.begin(), name.end(), is_atext_or_space)) {
    shown = name;
  } else {
    shown = "\"";
    for (char c : name) {
      if (c == '"' || c == '\\') shown += '\\';
      shown += c;
    }
    shown += '"';
  }
  return shown + " <" + box.address + ">";
}

// Body parts are UTF-8 text: quoted-printable keeps mostly-ASCII text readable and compact;
// base64 is smaller once more than a third of the bytes need escaping.
bool prefer_base64(std::string_view text) {
  std::size_t high = 0;
  for (unsigned char c : text) high += c >= 0x80 ? 1 : 0;
  return high * 3 > text.size();
}

std::string with_crlf(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 32);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) out += '\r';
    out += text[i];
  }
  return out;
}

std::string body_part(std::string_view content_type, std::string_view text) {
  std::string out = "Content-Type: ";
  out += content_type;
  out += "; charset=utf-8\r\n";
  if (prefer_base64(text)) {
    out += "Content-Transfer-Encoding: base64\r\n\r\n";
    out += encode_base64_lines(with_crlf(text));
  } else {
    out += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
    out += encode_quoted_printable(text);
    if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
  }
  return out;
}

void check_message_id(std::string_view id) {
  bool ok = id.size() >= 5 && id.size() <= 250 && id.front() == '<' && id.back() == '>';
  std::string_view inner = ok ? id.substr(1, id.size() - 2) : std::string_view{};
  std::size_t at = inner.find('@');
  ok = ok && at != std::string_view::npos && at > 0 && at + 1 < inner.size() &&
       inner.find('@', at + 1) == std::string_view::npos;
  for (unsigned char c : inner) {
    if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>') ok = false;
  }
  if (!ok) throw core::Invalid("message_id", "expected <unique-part@domain> in printable ASCII");
}

}  // namespace

void check_address(std::string_view field, std::string_view address) {
  auto bad = [&](const std::string& why) { throw core::Invalid(std::string(field), why); };
  if (address.empty()) bad("is empty");
  if (address.size() > kMaxAddressLength) bad("is longer than 254 characters");
  std::size_t at = address.find('@');
  if (at == std::string_view::npos || address.find('@', at + 1) != std::string_view::npos)
    bad("must contain exactly one '@'");
  std::string_view local = address.substr(0, at);
  std::string_view domain = address.substr(at + 1);
  if (local.empty() || local.size() > kMaxLocalPartLength)
    bad("the part before '@' must have 1 to 64 characters");
  for (unsigned char c : local) {
    if (c <= 0x20 || c >= 0x7f ||
        std::string_view("()<>[]:;@\\,\"").find(static_cast<char>(c)) != std::string_view::npos)
      bad("the part before '@' holds a character not allowed in an address");
  }
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos)
    bad("the part before '@' has a misplaced '.'");
  if (domain.empty()) bad("the domain after '@' is missing");
  for (std::string_view label : split(domain, '.')) {
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      bad("the domain is malformed");
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-')
        bad("the domain holds a character not allowed in a host name");
    }
  }
}

Mailbox parse_mailbox(std::string_view field, std::string_view text) {
  check_header_text(field, text);
  auto trim = [](std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
  };
  text = trim(text);
  Mailbox box;
  std::size_t open = text.rfind('<');
  if (open == std::string_view::npos) {
    box.address = std::string(text);
  } else {
    if (text.back() != '>') throw core::Invalid(std::string(field), "expected 'Name <address>'");
    box.address = std::string(text.substr(open + 1, text.size() - open - 2));
    std::string_view name = trim(text.substr(0, open));
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
      name = name.substr(1, name.size() - 2);
      for (std::size_t i = 0; i < name.size(); ++i) {
        if (name[i] == '\\' && i + 1 < name.size()) ++i;
        box.display_name += name[i];
      }
    } else {
      box.display_name = std::string(name);
    }
  }
  check_address(field, box.address);
  return box;
}

std::string encode_quoted_printable(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  std::vector<std::string_view> lines = split(text, '\n');
  for (std::size_t n = 0; n < lines.size(); ++n) {
    std::string_view line = lines[n];
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (n > 0) out += "\r\n";
    std::size_t column = 0;
    for (std::size_t i = 0; i < line.size(); ++i) {
      auto c = static_cast<unsigned char>(line[i]);
      bool last = i + 1 == line.size();
      // Trailing white space may be stripped in transit (§6.7 rule 3), and a lone '.' line
      // ends SMTP DATA: both travel encoded.
      bool literal =
          ((c == ' ' || c == '\t') && !last) || (c >= 33 && c <= 126 && c != '=' && !(c == '.' && i == 0));
      std::size_t width = literal ? 1 : 3;
      if (column + width > kQuotedPrintableColumn) {
        out += "=\r\n";
        column = 0;
      }
      if (literal) {
        out += static_cast<char>(c);
      } else {
        out += '=';
        out += kHex[c >> 4];
        out += kHex[c & 15];
      }
      column += width;
    }
  }
  return out;
}

std::string encode_base64_lines(std::string_view data) {
  std::string encoded = base64(data);
  std::string out;
  out.reserve(encoded.size() + encoded.size() / 38 + 2);
  for (std::size_t i = 0; i < encoded.size(); i += 76) {
    out.append(encoded, i, 76);
    out += "\r\n";
  }
  return out;
}

std::string encode_header_text(std::string_view name, std::string_view text) {
  std::string field(name);
  for (char& c : field) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  check_header_text(field, text);
  std::vector<std::string_view> words = split(text, ' ');
  bool long_word = std::any_of(words.begin(), words.end(), [](std::string_view w) { return w.size() > 70; });
  // Text that merely looks like an encoded word must be encoded too, or a reader would decode it.
  if (!is_ascii(text) || text.find("=?") != std::string_view::npos || long_word) return encoded_words(text);
  return fold(words, " ", name.size() + 2);
}

std::string rfc5322_date(std::int64_t epoch_ms) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::int64_t seconds = epoch_ms >= 0 ? epoch_ms / 1000 : -((-epoch_ms + 999) / 1000);
  auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday], tm.tm_mday,
                kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buffer;
}

std::string make_message_id(std::string_view from_address, std::int64_t now_ms) {
  std::size_t at = from_address.rfind('@');
  std::string domain =
      at == std::string_view::npos ? "factoryops.invalid" : std::string(from_address.substr(at + 1));
  return "<" + auth::random_hex(16) + "." + std::to_string(now_ms) + "@" + domain + ">";
}

std::string build_mime_message(const MimeMessage& m) {
  check_address("from", m.from.address);
  check_header_text("from", m.from.display_name);
  if (m.to.empty()) throw core::Invalid("to", "needs at least one recipient");
  for (const auto& address : m.to) check_address("to", address);
  check_message_id(m.message_id);
  if (m.boundary.empty() || m.boundary.size() > 70 ||
      m.boundary.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789=_.-") !=
          std::string::npos)
    throw core::Invalid("boundary", "expected 1 to 70 letters, digits and =_.-");

  std::string out;
  out += "Date: " + rfc5322_date(m.date_ms) + "\r\n";
  out += "From: " + format_mailbox(m.from) + "\r\n";
  std::vector<std::string_view> recipients(m.to.begin(), m.to.end());
  out += "To: " + fold(recipients, ", ", 4) + "\r\n";
  out += "Subject: " + encode_header_text("Subject", m.subject) + "\r\n";
  out += "Message-ID: " + m.message_id + "\r\n";
  out += "MIME-Version: 1.0\r\n";
  // RFC 3834: marks the message as machine-generated, so auto-responders do not answer it.
  out += "Auto-Submitted: auto-generated\r\n";
  if (m.html.empty()) {
    out += body_part("text/plain", m.text);
    return out;
  }
  out += "Content-Type: multipart/alternative; boundary=\"" + m.boundary + "\"\r\n\r\n";
  out += "This is a multi-part message in MIME format.\r\n";
  // RFC 2046 §5.1.4: the last part is the preferred one, so the HTML part comes second.
  out += "\r\n--" + m.boundary + "\r\n";
  out += body_part("text/plain", m.text);
  out += "\r\n--" + m.boundary + "\r\n";
  out += body_part("text/html", m.html);
  out += "\r\n--" + m.boundary + "--\r\n";
  return out;
}

}  // namespace factoryops::notify
