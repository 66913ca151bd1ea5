import {
  CartesianGrid,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { formatValue } from '../components/format';
import { EmptyPanel } from '../components/QueryStates';
import { formatInZone, tickFormatter } from '../components/timeZone';
import { useNow } from '../hooks/useNow';
import { axisTicks, chartEnd, chartPoints, POWER_UNIT, WINDOW_MS, type Point } from './fleetPower';

/** How often the time axis moves on when no new point arrives. */
const AXIS_STEP_MS = 5_000;

/**
 * The factory's total power over the last 15 minutes, the axis in `zone`. Loaded on its own
 * (with the charting library) so the dashboard's first paint does not wait for it.
 */
export default function FleetPowerChart({
  history,
  samples,
  zone,
}: {
  history: readonly Point[];
  samples: readonly Point[];
  zone: string;
}) {
  const now = chartEnd(useNow(AXIS_STEP_MS), samples);
  const from = now - WINDOW_MS;
  const data = chartPoints(history, samples, now).map(([t, v]) => ({ t, v }));
  if (data.length === 0) {
    return <EmptyPanel message="No power readings in the last 15 minutes." />;
  }
  return (
    <ResponsiveContainer width="100%" height={240} initialDimension={{ width: 600, height: 240 }}>
      <LineChart data={data} margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
        <CartesianGrid stroke="#e2e8f0" strokeDasharray="3 3" />
        <XAxis
          dataKey="t"
          type="number"
          scale="time"
          domain={[from, now]}
          ticks={axisTicks(from, now)}
          allowDataOverflow
          tickFormatter={tickFormatter(WINDOW_MS, zone)}
          minTickGap={40}
          fontSize={11}
        />
        <YAxis
          width={64}
          fontSize={11}
          domain={[0, 'auto']}
          tickFormatter={(v: number) => formatValue(v, null)}
          label={{ value: POWER_UNIT, angle: -90, position: 'insideLeft', fontSize: 11, dx: 4 }}
        />
        <Tooltip
          labelFormatter={(label) =>
            typeof label === 'number' ? formatInZone(label, zone) : label
          }
          formatter={(value) => [
            typeof value === 'number' ? formatValue(value, POWER_UNIT) : String(value),
            'Factory power',
          ]}
        />
        <Line
          type="stepAfter"
          dataKey="v"
          name="Factory power"
          stroke="#0369a1"
          strokeWidth={1.5}
          dot={false}
          isAnimationActive={false}
        />
      </LineChart>
    </ResponsiveContainer>
  );
}
