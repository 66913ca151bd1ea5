// The notifications role: runs `notify.alert` jobs, one (alert, event, channel, recipient) each.
// It renders the message from the alert as stored, sends it through the configured channel,
// and logs the attempt on the alert. A failure worth retrying fails the job, so the job runtime
// retries it with backoff; any other failure is logged and the job ends. Thread-safe; the
// Database, AlertService and Channels must outlive it.
#pragma once

#include "alerts/alert_service.hpp"
#include "db/database.hpp"
#include "notify/channels.hpp"
#include "queue/job_queue.hpp"

namespace factoryops::alerts {

class AlertNotifier {
 public:
  AlertNotifier(db::Database& database, AlertService& alerts, const notify::Channels& channels)
      : database_(database), alerts_(alerts), channels_(channels) {}

  // core::Invalid for a malformed job (dead-lettered at once); core::Unavailable when the
  // attempt failed but may succeed later (the job is retried).
  void handle(const queue::Job& job);

 private:
  db::Database& database_;
  AlertService& alerts_;
  const notify::Channels& channels_;
};

}  // namespace factoryops::alerts
