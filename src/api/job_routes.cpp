#include "api/job_routes.hpp"

#include <charconv>

#include <boost/json.hpp>

#include "api/identity_json.hpp"
#include "api/secured.hpp"

namespace factoryops::api {
namespace json = boost::json;
namespace {

json::object dead_letter_json(const queue::DeadJob& dead) {
  const auto& job = dead.job;
  boost::system::error_code ec;
  json::value payload = json::parse(job.payload, ec);
  json::object o;
  o["id"] = job.id;
  o["queue"] = job.queue;
  o["task"] = job.task;
  o["request_id"] = job.request_id;
  o["attempts"] = job.attempts;
  o["last_error"] = job.last_error;
  o["payload"] = ec ? json::value(nullptr) : payload;
  o["enqueued_at"] = format_timestamp_ms(job.enqueued_at_ms);
  o["died_at"] = format_timestamp_ms(dead.died_at_ms);
  return o;
}

std::size_t limit_of(const http::Request& request) {
  auto text = request.query_param("limit");
  if (!text || text->empty()) return 50;
  std::size_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc{} || end != text->data() + text->size() || value < 1 ||
      value > queue::kMaxDeadLetterPage) {
    throw core::Invalid("limit", "must be an integer from 1 to " + std::to_string(queue::kMaxDeadLetterPage));
  }
  return value;
}

}  // namespace

void register_job_routes(http::Router& router, const auth::Authenticator& authenticator,
                         queue::DeadLetterService& dead_letters) {
  using auth::Action;
  add_secured(router, authenticator, "GET", "/api/v1/jobs/dead-letters", Action::manage_factory,
              [&dead_letters](const http::Request& request, const auth::FactoryContext& context) {
                const std::string queue(request.query_param("queue").value_or(""));
                json::array items;
                for (const auto& dead : dead_letters.list(context, queue, limit_of(request))) {
                  items.push_back(dead_letter_json(dead));
                }
                return json_response(200, json::object{{"items", std::move(items)}});
              },
              {.summary = "The factory's jobs that failed for good, newest first"});

  add_secured(router, authenticator, "POST", "/api/v1/jobs/dead-letters/{id}/requeue", Action::manage_factory,
              [&dead_letters](const http::Request& request, const auth::FactoryContext& context) {
                dead_letters.requeue(context, request.path_param("id"));
                return http::Response::no_content();
              },
              {.summary = "Put a dead job back on its queue with fresh attempts"});

  add_secured(router, authenticator, "DELETE", "/api/v1/jobs/dead-letters/{id}", Action::manage_factory,
              [&dead_letters](const http::Request& request, const auth::FactoryContext& context) {
                dead_letters.remove(context, request.path_param("id"));
                return http::Response::no_content();
              },
              {.summary = "Forget a dead job"});
}

}  // namespace factoryops::api
