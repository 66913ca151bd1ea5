import {
  CartesianGrid,
  Line,
  LineChart,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { formatValue } from '../components/format';
import { formatInZone, tickFormatter } from '../components/timeZone';

interface AlertChartProps {
  points: [number, number][];
  from: number;
  to: number;
  threshold: number | null;
  startedAt: number;
  resolvedAt: number | null;
  zone: string;
}

/** The parameter around the alert, with the threshold and the alert's start and end marked. */
export default function AlertChart({
  points,
  from,
  to,
  threshold,
  startedAt,
  resolvedAt,
  zone,
}: AlertChartProps) {
  const data = points.map(([t, v]) => ({ t, v }));
  return (
    <ResponsiveContainer width="100%" height={260} initialDimension={{ width: 600, height: 260 }}>
      <LineChart data={data} margin={{ top: 12, right: 16, bottom: 8, left: 8 }}>
        <CartesianGrid stroke="#e2e8f0" strokeDasharray="3 3" />
        <XAxis
          dataKey="t"
          type="number"
          scale="time"
          domain={[from, to]}
          allowDataOverflow
          tickFormatter={tickFormatter(to - from, zone)}
          minTickGap={40}
          fontSize={11}
        />
        <YAxis
          width={64}
          fontSize={11}
          domain={['auto', 'auto']}
          tickFormatter={(v: number) => formatValue(v, null)}
        />
        <Tooltip
          labelFormatter={(label) =>
            typeof label === 'number' ? formatInZone(label, zone) : label
          }
          formatter={(value) => [
            typeof value === 'number' ? formatValue(value, null) : String(value),
            'value',
          ]}
        />
        {threshold !== null ? (
          <ReferenceLine
            y={threshold}
            stroke="#b91c1c"
            strokeDasharray="6 3"
            ifOverflow="extendDomain"
            label={{
              value: `threshold ${formatValue(threshold, null)}`,
              fontSize: 11,
              fill: '#b91c1c',
              position: 'insideTopRight',
            }}
          />
        ) : null}
        <ReferenceLine
          x={startedAt}
          stroke="#b45309"
          label={{ value: 'started', fontSize: 11, position: 'insideTopLeft' }}
        />
        {resolvedAt !== null ? (
          <ReferenceLine
            x={resolvedAt}
            stroke="#047857"
            label={{ value: 'resolved', fontSize: 11, position: 'insideTopLeft' }}
          />
        ) : null}
        <Line
          type="linear"
          dataKey="v"
          stroke="#0369a1"
          strokeWidth={1.5}
          dot={data.length <= 60}
          isAnimationActive={false}
        />
      </LineChart>
    </ResponsiveContainer>
  );
}
