pub use aws_sdk_dynamodb;
