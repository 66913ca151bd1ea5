#include "notify/twilio_whatsapp.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

#include <boost/json.hpp>

#include "core/errors.hpp"

namespace factoryops::notify {
namespace {

constexpr long kMaxConnectTimeoutMs = 5000;
// Twilio's answers are a few kilobytes; anything far larger is not Twilio.
constexpr std::size_t kMaxAnswerBytes = 256 * 1024;
// How much of an unexpected (non-JSON) answer a failure detail quotes.
constexpr std::size_t kQuotedAnswerBytes = 200;

std::once_flag curl_init_once;

std::size_t collect(char* data, std::size_t size, std::size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  if (body->size() + size * count > kMaxAnswerBytes) return 0;
  body->append(data, size * count);
  return size * count;
}

std::size_t utf8_length(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(
      text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

bool is_account_sid(std::string_view sid) {
  return sid.size() == 34 && sid.substr(0, 2) == "AC" &&
         sid.find_first_not_of("0123456789abcdefABCDEF", 2) == std::string_view::npos;
}

std::string quoted(std::string_view body) {
  std::string out(body.substr(0, kQuotedAnswerBytes));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return out;
}

}  // namespace

std::optional<std::string> whatsapp_address(std::string_view number) {
  if (number.rfind("whatsapp:", 0) == 0) number.remove_prefix(9);
  // E.164: at most 15 digits after '+', and no country code starts with 0.
  bool ok = number.size() >= 8 && number.size() <= 16 && number[0] == '+' && number[1] != '0' &&
            number.find_first_not_of("0123456789", 1) == std::string_view::npos;
  if (!ok) return std::nullopt;
  return "whatsapp:" + std::string(number);
}

std::string form_encode(const std::vector<std::pair<std::string_view, std::string_view>>& fields) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  auto encode = [](std::string& out, std::string_view text) {
    for (unsigned char c : text) {
      if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
        out += static_cast<char>(c);
      } else if (c == ' ') {
        out += '+';
      } else {
        out += '%';
        out += kHex[c >> 4];
        out += kHex[c & 15];
      }
    }
  };
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    encode(out, name);
    out += '=';
    encode(out, value);
  }
  return out;
}

std::string twilio_message_form(std::string_view from_address, const WhatsAppMessage& message) {
  auto to = whatsapp_address(message.to);
  if (!to) throw core::Invalid("to", "expected a WhatsApp number in E.164 form, such as +4915112345678");
  if (message.body.empty()) throw core::Invalid("body", "must not be empty");
  if (utf8_length(message.body) > kMaxWhatsAppBody) {
    throw core::Invalid("body", "is longer than " + std::to_string(kMaxWhatsAppBody) + " characters");
  }
  return form_encode({{"To", *to}, {"From", from_address}, {"Body", message.body}});
}

SendResult interpret_twilio_response(long status, std::string_view body) {
  namespace json = boost::json;
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec);
  const json::object* object = !ec ? parsed.if_object() : nullptr;
  auto text = [&](std::string_view key) -> std::string {
    if (!object) return {};
    const json::value* v = object->if_contains(key);
    if (!v) return {};
    if (v->is_string()) return std::string(v->get_string());
    if (v->is_int64()) return std::to_string(v->get_int64());
    return {};
  };

  if (status >= 200 && status < 300) {
    std::string sid = text("sid");
    std::string message_status = text("status");
    if (sid.empty()) {
      // The message may well exist: sending again could deliver it twice.
      return SendResult::failure(
          "provider_error",
          "Twilio answered " + std::to_string(status) + " without a message sid: " + quoted(body), false);
    }
    if (message_status == "failed" || message_status == "undelivered") {
      return SendResult::failure("provider_error",
                                 "Twilio created message " + sid + " as " + message_status + " (error " +
                                     text("error_code") + ": " + text("error_message") + ")",
                                 false);
    }
    return SendResult::success(sid, message_status);
  }

  std::string detail = "Twilio answered HTTP " + std::to_string(status);
  if (std::string code = text("code"); !code.empty()) {
    detail += ", error " + code + ": " + text("message");
    if (std::string more = text("more_info"); !more.empty()) detail += " (" + more + ")";
  } else if (!body.empty()) {
    detail += ": " + quoted(body);
  }
  std::string code = text("code");
  if (status == 401) return SendResult::failure("authentication", detail, false);
  if (status == 429) return SendResult::failure("rate_limited", detail, true);
  if (status >= 500) return SendResult::failure("server_error", detail, true);
  // 21211: the To number is invalid; 21614/63024: not a WhatsApp-capable recipient.
  if (code == "21211" || code == "21614" || code == "63024")
    return SendResult::failure("recipient_rejected", detail, false);
  if (status >= 400) return SendResult::failure("provider_error", detail, false);
  return SendResult::failure("provider_error", detail, true);
}

TwilioWhatsAppSender::TwilioWhatsAppSender(TwilioSettings settings) : settings_(std::move(settings)) {
  if (!is_account_sid(settings_.account_sid))
    throw core::Invalid("twilio_account_sid", "expected 'AC' followed by 32 hex digits");
  if (settings_.auth_token.empty()) throw core::Invalid("twilio_auth_token", "must not be empty");
  auto from = whatsapp_address(settings_.from);
  if (!from) throw core::Invalid("twilio_whatsapp_from", "expected an E.164 number such as +14155238886");
  from_ = *from;
  std::string base = settings_.api_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (base.rfind("https://", 0) != 0 && base.rfind("http://", 0) != 0)
    throw core::Invalid("twilio_api_url", "expected an https:// URL");
  messages_url_ = base + "/2010-04-01/Accounts/" + settings_.account_sid + "/Messages.json";
  std::call_once(curl_init_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

SendResult TwilioWhatsAppSender::send(const WhatsAppMessage& message) {
  std::string form;
  try {
    form = twilio_message_form(from_, message);
  } catch (const core::Invalid& e) {
    return SendResult::failure("invalid_message", e.what(), false);
  }
  CURL* curl = curl_easy_init();
  if (!curl) return SendResult::failure("server_error", "curl_easy_init failed", true);
  std::string answer;
  char error[CURL_ERROR_SIZE] = {};
  long timeout_ms = static_cast<long>(settings_.timeout.count());
  curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, messages_url_.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, std::min(kMaxConnectTimeoutMs, timeout_ms));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
  curl_easy_setopt(curl, CURLOPT_USERNAME, settings_.account_sid.c_str());
  curl_easy_setopt(curl, CURLOPT_PASSWORD, settings_.auth_token.c_str());
  // POSTFIELDS implies Content-Type: application/x-www-form-urlencoded, as Twilio expects.
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(form.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
  if (!settings_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, settings_.ca_file.c_str());

  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc == CURLE_OK) return interpret_twilio_response(status, answer);

  std::string detail =
      std::string(error[0] != '\0' ? error : curl_easy_strerror(rc)) + " (" + messages_url_ + ")";
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
      // The request may have reached Twilio: a retry can, rarely, deliver the message twice.
      return SendResult::failure("timeout", "Twilio did not answer in time: " + detail, true);
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
      return SendResult::failure("connect", "cannot connect to Twilio: " + detail, true);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
      return SendResult::failure("tls", "Twilio's TLS certificate was not accepted: " + detail, false);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return SendResult::failure("not_configured", "FACTORYOPS_TWILIO_API_URL is not usable: " + detail,
                                 false);
    default: return SendResult::failure("server_error", "the request to Twilio failed: " + detail, true);
  }
}

}  // namespace factoryops::notify
