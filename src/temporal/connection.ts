import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { status as grpcStatus } from '@grpc/grpc-js';
import proto from '@temporalio/proto';
import { MTS_SEARCH_ATTRIBUTES } from './search-attributes';

export interface TemporalHandles {
  client: Client;
  connection: Connection;
  close(): Promise<void>;
}

export async function connectClient(address: string, namespace: string): Promise<TemporalHandles> {
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace });
  return { client, connection, close: () => connection.close() };
}

export function connectWorkerConnection(address: string): Promise<NativeConnection> {
  return NativeConnection.connect({ address });
}

/** Registers MTS's search attributes on the namespace when missing (a real cluster does not know them). */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = MTS_SEARCH_ATTRIBUTES.filter((k) => !(k.name in (existing.customAttributes ?? {})));
  if (missing.length === 0) return;
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((k) => [k.name, proto.temporal.api.enums.v1.IndexedValueType[`INDEXED_VALUE_TYPE_${k.type}`]])),
    });
  } catch (err) {
    if ((err as { code?: number }).code !== grpcStatus.ALREADY_EXISTS) throw err;
  }
}
