#include "notify/channel.hpp"

#include "core/metrics.hpp"

namespace factoryops::notify {

std::string_view channel_name(ChannelKind kind) {
  switch (kind) {
    case ChannelKind::email: return "email";
    case ChannelKind::whatsapp: return "whatsapp";
  }
  return "unknown";
}

SendResult SendResult::success(std::string provider_id, std::string detail) {
  SendResult r;
  r.sent = true;
  r.provider_id = std::move(provider_id);
  r.detail = std::move(detail);
  return r;
}

SendResult SendResult::failure(std::string code, std::string detail, bool retryable) {
  SendResult r;
  r.code = std::move(code);
  r.detail = std::move(detail);
  r.retryable = retryable;
  return r;
}

void count_alert_notification(ChannelKind kind, const SendResult& result) {
  static auto& family = core::metrics::Registry::global().counter(
      "alert_notifications_sent_total", "Alert notification attempts, by channel and result (sent, failed)",
      {"channel", "result"});
  family.labels({channel_name(kind), result.sent ? "sent" : "failed"}).inc();
}

}  // namespace factoryops::notify
