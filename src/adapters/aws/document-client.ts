import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** The Document client as every part of marketflow uses it: absent values are left out of items. */
export function createDocumentClient(
  config: DynamoDBClientConfig = {},
  instrument: <T>(client: T) => T = (client) => client,
): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(instrument(new DynamoDBClient(config)), {
    marshallOptions: { removeUndefinedValues: true },
  });
}
