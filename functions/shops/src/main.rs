// Deep async nesting (lambda runtime over the SDK) needs more than the default query depth.
#![recursion_limit = "256"]

assistant_aws::http_main!(shops::handle);
