#include "notify/smtp_sender.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <mutex>

#include <boost/url/parse.hpp>

#include "auth/crypto.hpp"
#include "core/errors.hpp"

namespace factoryops::notify {
namespace {

// A server that has not answered within this long is not going to; the rest of the timeout
// is left for the conversation itself.
constexpr long kMaxConnectTimeoutMs = 10000;
// Server replies kept for the failure detail: enough for a multi-line EHLO answer's tail.
constexpr std::size_t kMaxReplyBytes = 4096;

std::once_flag curl_init_once;

struct Upload {
  std::string_view data;
  std::size_t offset = 0;
};

std::size_t read_upload(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  std::size_t n = std::min(size * count, upload->data.size() - upload->offset);
  std::copy_n(upload->data.data() + upload->offset, n, buffer);
  upload->offset += n;
  return n;
}

// libcurl hands every SMTP reply line to the header callback: the last one explains a failure.
std::size_t collect_reply(char* data, std::size_t size, std::size_t count, void* user) {
  auto* last = static_cast<std::string*>(user);
  std::string_view line(data, size * count);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (!line.empty()) last->assign(line.substr(0, kMaxReplyBytes));
  return size * count;
}

std::string without_credentials(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) throw core::Invalid("smtp_url", "not a URL");
  std::string scheme(parsed->scheme());
  if (scheme != "smtp" && scheme != "smtps") throw core::Invalid("smtp_url", "scheme must be smtp or smtps");
  if (parsed->host().empty()) throw core::Invalid("smtp_url", "host is missing");
  std::string out = scheme + "://" + std::string(parsed->encoded_host());
  if (parsed->has_port()) out += ":" + std::string(parsed->port());
  return out;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct CurlHandle {
  CURL* curl = curl_easy_init();
  curl_slist* recipients = nullptr;
  ~CurlHandle() {
    curl_slist_free_all(recipients);
    if (curl) curl_easy_cleanup(curl);
  }
};

}  // namespace

StartTls parse_starttls(std::string_view text) {
  if (text == "required") return StartTls::required;
  if (text == "opportunistic") return StartTls::opportunistic;
  if (text == "off") return StartTls::off;
  throw core::Invalid("smtp_starttls", "must be 'required', 'opportunistic' or 'off'");
}

SmtpSender::SmtpSender(SmtpSettings settings)
    : settings_(std::move(settings)),
      from_(parse_mailbox("smtp_from", settings_.from)),
      endpoint_(without_credentials(settings_.url)) {
  std::call_once(curl_init_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string SmtpSender::render(const EmailMessage& message, std::int64_t now) const {
  MimeMessage m;
  m.from = from_;
  m.to = message.to;
  m.subject = message.subject;
  m.text = message.text;
  m.html = message.html;
  m.message_id = message.message_id.empty() ? make_message_id(from_.address, now) : message.message_id;
  m.date_ms = now;
  m.boundary = "=_" + auth::random_hex(12);
  return build_mime_message(m);
}

SendResult SmtpSender::send(const EmailMessage& message) {
  std::int64_t now = now_ms();
  EmailMessage identified = message;
  if (identified.message_id.empty()) identified.message_id = make_message_id(from_.address, now);
  std::string data;
  try {
    data = render(identified, now);
  } catch (const core::Invalid& e) {
    return SendResult::failure("invalid_message", e.what(), false);
  }

  CurlHandle h;
  if (!h.curl) return SendResult::failure("server_error", "curl_easy_init failed", true);
  CURL* curl = h.curl;
  Upload upload{data, 0};
  std::string last_reply;
  char error[CURL_ERROR_SIZE] = {};
  std::string mail_from = "<" + from_.address + ">";
  for (const auto& to : message.to) {
    std::string rcpt = "<" + to + ">";
    h.recipients = curl_slist_append(h.recipients, rcpt.c_str());
  }
  long timeout_ms = static_cast<long>(settings_.timeout.count());

  curl_easy_setopt(curl, CURLOPT_URL, settings_.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, std::min(kMaxConnectTimeoutMs, timeout_ms));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, mail_from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, h.recipients);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_upload);
  curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
  curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(data.size()));
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect_reply);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &last_reply);
  long use_ssl = CURLUSESSL_ALL;
  if (settings_.starttls == StartTls::opportunistic) use_ssl = CURLUSESSL_TRY;
  if (settings_.starttls == StartTls::off && endpoint_.rfind("smtps://", 0) != 0) use_ssl = CURLUSESSL_NONE;
  curl_easy_setopt(curl, CURLOPT_USE_SSL, use_ssl);
  if (!settings_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, settings_.ca_file.c_str());
  if (settings_.insecure_skip_verify) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!settings_.username.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, settings_.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, settings_.password.c_str());
  }

  CURLcode rc = curl_easy_perform(curl);
  long smtp_code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &smtp_code);
  if (rc != CURLE_OK) {
    std::string detail = error[0] != '\0' ? std::string(error) : std::string(curl_easy_strerror(rc));
    return classify_smtp_failure(static_cast<int>(rc), smtp_code, last_reply, detail, endpoint_);
  }
  return SendResult::success(identified.message_id,
                             last_reply.empty() ? std::to_string(smtp_code) : last_reply);
}

SendResult classify_smtp_failure(int curl_code, long smtp_code, std::string_view server_reply,
                                 std::string_view curl_detail, std::string_view endpoint) {
  std::string where = " (" + std::string(endpoint) + ")";
  std::string said = server_reply.empty()
                         ? std::string(curl_detail)
                         : std::string(curl_detail) + "; server said: " + std::string(server_reply);
  // SMTP's own convention (RFC 5321 §4.2.1): 4yz is transient, 5yz permanent.
  bool transient = smtp_code >= 400 && smtp_code < 500;
  switch (static_cast<CURLcode>(curl_code)) {
    case CURLE_LOGIN_DENIED:
      return SendResult::failure("authentication", "SMTP authentication failed" + where + ": " + said,
                                 transient);
    case CURLE_USE_SSL_FAILED:
      return SendResult::failure(
          "tls",
          "the SMTP server does not offer STARTTLS, which FACTORYOPS_SMTP_STARTTLS=required "
          "demands" +
              where,
          false);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_ISSUER_ERROR:
      return SendResult::failure(
          "tls", "the SMTP server's TLS certificate was not accepted" + where + ": " + said, false);
    case CURLE_SSL_CONNECT_ERROR:
      return SendResult::failure("tls", "TLS handshake with the SMTP server failed" + where + ": " + said,
                                 true);
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
      return SendResult::failure("connect", "cannot connect to the SMTP server" + where + ": " + said, true);
    case CURLE_OPERATION_TIMEDOUT:
      return SendResult::failure("timeout", "the SMTP server did not answer in time" + where + ": " + said,
                                 true);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return SendResult::failure("not_configured", "FACTORYOPS_SMTP_URL is not usable" + where + ": " + said,
                                 false);
    default: break;
  }
  if (smtp_code >= 400) {
    // libcurl names the refused command in its error text ("RCPT failed: 550").
    std::string code = "rejected";
    std::string what = "the SMTP server refused the message";
    if (curl_detail.find("RCPT") != std::string_view::npos) {
      code = "recipient_rejected";
      what = "the SMTP server refused a recipient";
    } else if (curl_detail.find("MAIL") != std::string_view::npos) {
      code = "sender_rejected";
      what = "the SMTP server refused the sender";
    }
    return SendResult::failure(code, what + where + ": " + said, transient);
  }
  return SendResult::failure("server_error", "the SMTP conversation failed" + where + ": " + said, true);
}

}  // namespace factoryops::notify
