import { NOTIFY_CHANNELS, type StreamedAlert } from '../db/notify';
import { NotifyStream, type NotifyStreamOptions } from './notify-stream';

/** Alerts as workers store them, to every SSE client of this API process. */
export class AlertStream extends NotifyStream<StreamedAlert> {
  constructor(databaseUrl: string, onError?: NotifyStreamOptions['onError']) {
    super(databaseUrl, NOTIFY_CHANNELS.alerts, { onError });
  }
}
