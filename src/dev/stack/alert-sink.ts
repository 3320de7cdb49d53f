/**
 * The webhook Alertmanager delivers to in `npm run stack` and the end-to-end tests: it keeps every alert it is
 * sent, in arrival order, and hands each to `onAlert` (the stack prints them). Alertmanager's webhook payload
 * (version 4) carries the group's alerts, each with its status, labels, annotations and start/end times.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DeliveredAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  /** When the sink received it. */
  receivedAt: Date;
}

export class AlertSink {
  private server: http.Server | undefined;
  private readonly delivered: DeliveredAlert[] = [];

  constructor(private readonly onAlert: (alert: DeliveredAlert) => void = () => undefined) {}

  /** Listens on host:port (0: any free port); returns the webhook URL. */
  async start(port = 0, host = '127.0.0.1'): Promise<string> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method !== 'POST') {
          res.writeHead(405).end();
          return;
        }
        try {
          const payload = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { alerts?: Omit<DeliveredAlert, 'receivedAt'>[] };
          for (const alert of payload.alerts ?? []) {
            const delivered = { ...alert, receivedAt: new Date() };
            this.delivered.push(delivered);
            this.onAlert(delivered);
          }
          res.writeHead(200).end();
        } catch {
          res.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, resolve);
    });
    this.server = server;
    return `http://${host}:${(server.address() as AddressInfo).port}/alerts`;
  }

  alerts(): DeliveredAlert[] {
    return [...this.delivered];
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** One line per alert, as `npm run stack` prints them. */
export function describeAlert(alert: DeliveredAlert): string {
  const summary = alert.annotations.summary ?? '';
  const description = alert.annotations.description ? ` (${alert.annotations.description})` : '';
  return `[alert ${alert.status.toUpperCase()}] ${alert.labels.alertname} severity=${alert.labels.severity ?? '-'}: ${summary}${description}`;
}
