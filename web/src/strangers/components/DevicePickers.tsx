import { Camera, Mic } from 'lucide-react';
import type { ChatController, ChatState } from '../controller';
import { useT } from '../../i18n';

/** Camera and microphone pickers; a change is remembered and, mid-call, swaps the track in place. */
export function DevicePickers({ controller, state }: { controller: ChatController; state: ChatState }) {
  const t = useT();
  const hasStream = Boolean(state.localStream);
  return (
    <div className="device-pickers">
      <label className="field inline">
        <span>
          <Camera aria-hidden="true" size={16} /> {t('devices.camera')}
        </span>
        <select
          data-testid="camera-select"
          value={state.cameraId ?? ''}
          disabled={!hasStream || state.cameras.length === 0}
          onChange={(e) => void controller.switchDevice('camera', e.target.value)}
        >
          {state.cameras.length === 0 && <option value="">{t('devices.default')}</option>}
          {state.cameras.map((d) => (
            <option key={d.deviceId} value={d.deviceId}>
              {d.label}
            </option>
          ))}
        </select>
      </label>
      <label className="field inline">
        <span>
          <Mic aria-hidden="true" size={16} /> {t('devices.mic')}
        </span>
        <select
          data-testid="mic-select"
          value={state.micId ?? ''}
          disabled={!hasStream || state.mics.length === 0}
          onChange={(e) => void controller.switchDevice('mic', e.target.value)}
        >
          {state.mics.length === 0 && <option value="">{t('devices.default')}</option>}
          {state.mics.map((d) => (
            <option key={d.deviceId} value={d.deviceId}>
              {d.label}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}
