#include "notify/mime.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "core/errors.hpp"

namespace factoryops::notify {
namespace {

// Independent decoders, written from RFC 2045 and RFC 2047, so the tests check the encoders
// against the standard rather than against themselves.
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string decode_quoted_printable(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '=') {
      out += text[i];
      continue;
    }
    if (text.compare(i, 3, "=\r\n") == 0) {
      i += 2;
      continue;
    }
    EXPECT_TRUE(i + 2 < text.size() && hex_value(text[i + 1]) >= 0 && hex_value(text[i + 2]) >= 0)
        << "bad escape at " << i;
    out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
    i += 2;
  }
  return out;
}

std::string decode_base64(const std::string& text) {
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    if (c == '\r' || c == '\n' || c == '=') continue;
    auto v = kAlphabet.find(c);
    EXPECT_NE(v, std::string::npos) << "not base64: " << c;
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xFF);
    }
  }
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find("\r\n", start);
    if (end == std::string::npos) {
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, end - start));
    start = end + 2;
  }
  return lines;
}

// Decodes a header value made of RFC 2047 B-words separated by folding white space.
std::string decode_encoded_words(const std::string& value, std::vector<std::string>* words = nullptr) {
  std::string out;
  std::size_t pos = 0;
  while ((pos = value.find("=?UTF-8?B?", pos)) != std::string::npos) {
    std::size_t end = value.find("?=", pos + 10);
    EXPECT_NE(end, std::string::npos);
    std::string word = value.substr(pos, end + 2 - pos);
    if (words) words->push_back(word);
    out += decode_base64(value.substr(pos + 10, end - pos - 10));
    pos = end + 2;
  }
  return out;
}

std::string invalid_field(const std::function<void()>& call) {
  try {
    call();
  } catch (const core::Invalid& e) {
    return e.field();
  }
  return "(no error)";
}

TEST(QuotedPrintableTest, EncodesNonAsciiAndEqualsAndUsesCrlf) {
  EXPECT_EQ(encode_quoted_printable("caf\xC3\xA9 = 1\xE2\x82\xAC\n"), "caf=C3=A9 =3D 1=E2=82=AC\r\n");
  EXPECT_EQ(encode_quoted_printable("plain text"), "plain text");
}

TEST(QuotedPrintableTest, EncodesTrailingWhiteSpaceAndLeadingDot) {
  EXPECT_EQ(encode_quoted_printable("end \r\nnext\t"), "end=20\r\nnext=09");
  EXPECT_EQ(encode_quoted_printable(".\nx.y"), "=2E\r\nx.y");
}

TEST(QuotedPrintableTest, LongLinesGetSoftBreaksAndDecodeBack) {
  std::string text = std::string(200, 'a') + "\n" + std::string(74, 'b') + "\xC3\xA9\xC3\xA9 tail\n";
  std::string encoded = encode_quoted_printable(text);
  for (const auto& line : lines_of(encoded)) EXPECT_LE(line.size(), 76u) << line;
  // Hard line breaks come back as CRLF, the canonical form of text.
  std::string expected = std::string(200, 'a') + "\r\n" + std::string(74, 'b') + "\xC3\xA9\xC3\xA9 tail\r\n";
  EXPECT_EQ(decode_quoted_printable(encoded), expected);
}

TEST(Base64Test, PadsAndWrapsAt76Columns) {
  EXPECT_EQ(encode_base64_lines(""), "");
  EXPECT_EQ(encode_base64_lines("f"), "Zg==\r\n");
  EXPECT_EQ(encode_base64_lines("fo"), "Zm8=\r\n");
  EXPECT_EQ(encode_base64_lines("foo"), "Zm9v\r\n");
  std::string data;
  for (int i = 0; i < 300; ++i) data += static_cast<char>(i * 7);
  std::string encoded = encode_base64_lines(data);
  auto lines = lines_of(encoded);
  ASSERT_EQ(lines.size(), 6u);  // 400 characters
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) EXPECT_EQ(lines[i].size(), 76u);
  EXPECT_EQ(decode_base64(encoded), data);
}

TEST(HeaderTextTest, PlainAsciiStaysReadable) {
  EXPECT_EQ(encode_header_text("Subject", "[CRITICAL] Compressor power high"),
            "[CRITICAL] Compressor power high");
}

TEST(HeaderTextTest, LongAsciiIsFoldedAtSpaces) {
  std::string subject;
  for (int i = 0; i < 30; ++i) subject += (i ? " " : "") + std::string("word") + std::to_string(i);
  std::string folded = encode_header_text("Subject", subject);
  auto lines = lines_of(folded);
  ASSERT_GT(lines.size(), 1u);
  EXPECT_LE(lines[0].size() + 9, 78u);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i][0], ' ');
    EXPECT_LE(lines[i].size(), 78u);
  }
  std::string unfolded = folded;
  for (std::size_t at; (at = unfolded.find("\r\n")) != std::string::npos;) unfolded.erase(at, 2);
  EXPECT_EQ(unfolded, subject);
}

TEST(HeaderTextTest, NonAsciiBecomesEncodedWordsThatNeverSplitACharacter) {
  std::string subject =
      "[KRITISCH] Kompressorleistung \xC3\xBC"
      "ber Grenzwert \xE2\x80\x93 Werk M\xC3\xBC"
      "nchen";
  for (int i = 0; i < 4; ++i)
    subject += " \xE0\xA4\x95\xE0\xA4\xBE\xE0\xA4\xB0\xE0\xA4\x96\xE0\xA4\xBE\xE0\xA4\xA8\xE0\xA4\xBE";
  std::string encoded = encode_header_text("Subject", subject);
  std::vector<std::string> words;
  EXPECT_EQ(decode_encoded_words(encoded, &words), subject);
  ASSERT_GT(words.size(), 2u);
  for (const auto& word : words) {
    EXPECT_LE(word.size(), 75u);
    std::string bytes = decode_base64(word.substr(10, word.size() - 12));
    ASSERT_FALSE(bytes.empty());
    EXPECT_NE(static_cast<unsigned char>(bytes.front()) & 0xC0, 0x80) << "word starts inside a character";
  }
  for (const auto& line : lines_of(encoded)) EXPECT_LE(line.size() + 9, 78u + 9);
}

TEST(HeaderTextTest, TextThatLooksEncodedIsEncoded) {
  std::string encoded = encode_header_text("Subject", "=?UTF-8?B?aGk=?= trick");
  EXPECT_EQ(encoded.rfind("=?UTF-8?B?", 0), 0u);
  EXPECT_EQ(decode_encoded_words(encoded), "=?UTF-8?B?aGk=?= trick");
}

TEST(HeaderTextTest, LineBreaksAreRefused) {
  EXPECT_EQ(invalid_field([] { encode_header_text("Subject", "hello\r\nBcc: victim@example.com"); }),
            "subject");
  EXPECT_EQ(invalid_field([] { encode_header_text("Subject", "hello\nBcc: x@example.com"); }), "subject");
  EXPECT_EQ(invalid_field([] { encode_header_text("Subject", std::string("nul\0byte", 8)); }), "subject");
}

TEST(AddressTest, ParsesNamedAndBareMailboxes) {
  Mailbox a = parse_mailbox("from", "FactoryOps Alerts <alerts@plant.example>");
  EXPECT_EQ(a.display_name, "FactoryOps Alerts");
  EXPECT_EQ(a.address, "alerts@plant.example");
  Mailbox b = parse_mailbox("from", "\"Ops, \\\"Pune\\\"\" <ops+x@pune.example.co.in>");
  EXPECT_EQ(b.display_name, "Ops, \"Pune\"");
  EXPECT_EQ(b.address, "ops+x@pune.example.co.in");
  Mailbox c = parse_mailbox("from", "  noreply@example.com ");
  EXPECT_EQ(c.display_name, "");
  EXPECT_EQ(c.address, "noreply@example.com");
}

TEST(AddressTest, RejectsMalformedAndInjectedAddresses) {
  for (const char* bad :
       {"", "plain", "@example.com", "a@", "a@@example.com", "a b@example.com", "a@exa mple.com",
        "<a@example.com>x", "a@example.com\r\nBcc: b@example.com", "a,b@example.com", "a@-example.com",
        ".a@example.com", "a..b@example.com", "a@example..com", "m\xC3\xBCller@example.com"}) {
    EXPECT_EQ(invalid_field([&] { parse_mailbox("to", bad); }), "to") << bad;
  }
}

TEST(DateTest, FormatsRfc5322InUtc) {
  EXPECT_EQ(rfc5322_date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(rfc5322_date(1795855503999), "Sat, 28 Nov 2026 08:45:03 +0000");
}

TEST(MessageIdTest, IsUniqueAndUsesTheSendersDomain) {
  std::string a = make_message_id("alerts@plant.example", 1795855503000);
  std::string b = make_message_id("alerts@plant.example", 1795855503000);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.front(), '<');
  EXPECT_NE(a.find("@plant.example>"), std::string::npos);
}

MimeMessage sample() {
  MimeMessage m;
  m.from = {"FactoryOps Alerts", "alerts@plant.example"};
  m.to = {"maintenance@plant.example", "shift.lead@plant.example"};
  m.subject = "[CRITICAL] Compressor power high";
  m.text = "Value: 82.4 kW\nThreshold: 75 kW\n";
  m.html = "<p>Value: <b>82.4 kW</b></p>\n";
  m.message_id = "<abc123.1795855503000@plant.example>";
  m.date_ms = 1795855503000;
  m.boundary = "=_0123456789abcdef";
  return m;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(MimeMessageTest, MultipartAlternativeWithTextThenHtml) {
  std::string msg = build_mime_message(sample());
  std::size_t body_at = msg.find("\r\n\r\n");
  ASSERT_NE(body_at, std::string::npos);
  std::string headers = msg.substr(0, body_at + 2);
  EXPECT_NE(headers.find("Date: Sat, 28 Nov 2026 08:45:03 +0000\r\n"), std::string::npos);
  EXPECT_NE(headers.find("From: FactoryOps Alerts <alerts@plant.example>\r\n"), std::string::npos);
  EXPECT_NE(headers.find("To: maintenance@plant.example, shift.lead@plant.example\r\n"), std::string::npos);
  EXPECT_NE(headers.find("Subject: [CRITICAL] Compressor power high\r\n"), std::string::npos);
  EXPECT_NE(headers.find("Message-ID: <abc123.1795855503000@plant.example>\r\n"), std::string::npos);
  EXPECT_NE(headers.find("MIME-Version: 1.0\r\n"), std::string::npos);
  EXPECT_NE(headers.find("Content-Type: multipart/alternative; boundary=\"=_0123456789abcdef\"\r\n"),
            std::string::npos);
  EXPECT_EQ(count(msg, "\r\n--=_0123456789abcdef\r\n"), 2u);
  EXPECT_EQ(count(msg, "\r\n--=_0123456789abcdef--\r\n"), 1u);
  std::size_t text_at = msg.find("Content-Type: text/plain; charset=utf-8");
  std::size_t html_at = msg.find("Content-Type: text/html; charset=utf-8");
  ASSERT_NE(text_at, std::string::npos);
  ASSERT_NE(html_at, std::string::npos);
  EXPECT_LT(text_at, html_at) << "the preferred (HTML) alternative comes last";
  EXPECT_EQ(count(msg, "Content-Transfer-Encoding: quoted-printable\r\n"), 2u);
  EXPECT_NE(msg.find("<p>Value: <b>82.4 kW</b></p>"), std::string::npos);
  // Every line ends in CRLF and none is longer than RFC 5322 allows.
  for (std::size_t i = 0; i < msg.size(); ++i) {
    if (msg[i] == '\n') {
      ASSERT_TRUE(i > 0 && msg[i - 1] == '\r') << "bare LF at " << i;
    }
  }
  for (const auto& line : lines_of(msg)) EXPECT_LE(line.size(), 78u) << line;
}

TEST(MimeMessageTest, TextOnlyMessageHasASinglePart) {
  MimeMessage m = sample();
  m.html.clear();
  std::string msg = build_mime_message(m);
  EXPECT_EQ(msg.find("multipart"), std::string::npos);
  EXPECT_NE(
      msg.find(
          "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
          "Value: 82.4 kW\r\nThreshold: 75 kW\r\n"),
      std::string::npos);
}

TEST(MimeMessageTest, MostlyNonAsciiTextTravelsAsBase64) {
  MimeMessage m = sample();
  m.html.clear();
  m.text =
      "\xE0\xA4\x95\xE0\xA4\xAE\xE0\xA5\x8D\xE0\xA4\xAA\xE0\xA5\x8D\xE0\xA4\xB0\xE0\xA5\x87\xE0\xA4\xB8\xE0"
      "\xA4"
      "\xB0\n";
  std::string msg = build_mime_message(m);
  std::size_t at = msg.find("Content-Transfer-Encoding: base64\r\n\r\n");
  ASSERT_NE(at, std::string::npos);
  std::string body = msg.substr(at + std::string("Content-Transfer-Encoding: base64\r\n\r\n").size());
  std::string expected = m.text.substr(0, m.text.size() - 1) + "\r\n";
  EXPECT_EQ(decode_base64(body), expected);
}

TEST(MimeMessageTest, NonAsciiSubjectAndSenderNameAreEncoded) {
  MimeMessage m = sample();
  m.subject =
      "[KRITISCH] Leistung \xC3\xBC"
      "ber 75 kW";
  m.from.display_name =
      "Werk M\xC3\xBC"
      "nchen";
  std::string msg = build_mime_message(m);
  std::size_t at = msg.find("Subject: ");
  std::string value = msg.substr(at + 9, msg.find("\r\nMessage-ID:") - at - 9);
  EXPECT_EQ(decode_encoded_words(value), m.subject);
  EXPECT_NE(msg.find("From: =?UTF-8?B?"), std::string::npos);
  EXPECT_NE(msg.find("?= <alerts@plant.example>\r\n"), std::string::npos);
}

TEST(MimeMessageTest, RefusesHeaderInjectionAndBadAddresses) {
  MimeMessage m = sample();
  m.subject = "alert\r\nBcc: everyone@example.com";
  EXPECT_EQ(invalid_field([&] { build_mime_message(m); }), "subject");
  m = sample();
  m.to.push_back("x@example.com\r\nBcc: everyone@example.com");
  EXPECT_EQ(invalid_field([&] { build_mime_message(m); }), "to");
  m = sample();
  m.to.clear();
  EXPECT_EQ(invalid_field([&] { build_mime_message(m); }), "to");
  m = sample();
  m.from.display_name = "Ops\nBcc: x@example.com";
  EXPECT_EQ(invalid_field([&] { build_mime_message(m); }), "from");
  m = sample();
  m.message_id = "<id@example.com>\r\nBcc: x@example.com";
  EXPECT_EQ(invalid_field([&] { build_mime_message(m); }), "message_id");
}

TEST(MimeMessageTest, ManyRecipientsAreFoldedAcrossLines) {
  MimeMessage m = sample();
  m.to.clear();
  for (int i = 0; i < 12; ++i) m.to.push_back("maintenance.team" + std::to_string(i) + "@plant.example");
  std::string msg = build_mime_message(m);
  std::size_t at = msg.find("\r\nTo: ");
  std::size_t end = msg.find("\r\nSubject: ");
  std::string field = msg.substr(at + 2, end - at - 2);
  auto lines = lines_of(field);
  ASSERT_GT(lines.size(), 3u);
  for (const auto& line : lines) EXPECT_LE(line.size(), 78u) << line;
  std::string unfolded = field;
  for (std::size_t pos; (pos = unfolded.find("\r\n")) != std::string::npos;) unfolded.erase(pos, 2);
  std::string expected = "To: ";
  for (std::size_t i = 0; i < m.to.size(); ++i) expected += (i ? ", " : "") + m.to[i];
  EXPECT_EQ(unfolded, expected);
}

TEST(MimeMessageTest, SenderNameWithSpecialsIsQuoted) {
  MimeMessage m = sample();
  m.from.display_name = "Ops, Pune \"Line 2\"";
  std::string msg = build_mime_message(m);
  EXPECT_NE(msg.find("From: \"Ops, Pune \\\"Line 2\\\"\" <alerts@plant.example>\r\n"), std::string::npos);
}

}  // namespace
}  // namespace factoryops::notify
