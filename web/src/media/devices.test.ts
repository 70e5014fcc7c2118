import { describe, expect, it, vi } from 'vitest';
import { browserFamily, classifyMediaError, loadDeviceChoice, mediaConstraints, replaceSenderTrack, saveDeviceChoice, toOptions } from './devices';

function memoryStore() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
}

describe('device memory', () => {
  it('remembers camera and microphone separately', () => {
    const s = memoryStore();
    expect(loadDeviceChoice(s)).toEqual({ cameraId: null, micId: null });
    saveDeviceChoice({ cameraId: 'cam2' }, s);
    saveDeviceChoice({ micId: 'mic9' }, s);
    expect(loadDeviceChoice(s)).toEqual({ cameraId: 'cam2', micId: 'mic9' });
  });
  it('asks for the remembered devices as ideal (an unplugged one falls back)', () => {
    expect(mediaConstraints({ cameraId: 'cam2', micId: null }, { video: true, audio: true })).toEqual({
      video: { deviceId: { ideal: 'cam2' } },
      audio: true,
    });
  });
});

describe('failures and help', () => {
  it('classifies getUserMedia errors', () => {
    expect(classifyMediaError({ name: 'NotAllowedError' })).toBe('denied');
    expect(classifyMediaError({ name: 'NotFoundError' })).toBe('notfound');
    expect(classifyMediaError({ name: 'NotReadableError' })).toBe('unavailable');
    expect(classifyMediaError(null)).toBe('unavailable');
  });
  it('knows which browser to explain', () => {
    expect(browserFamily('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36')).toBe('chrome');
    expect(browserFamily('Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0')).toBe('firefox');
    expect(browserFamily('Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 Version/17.0 Safari/605.1.15')).toBe('safari');
  });
  it('names unlabelled devices', () => {
    const list = [
      { kind: 'videoinput', deviceId: 'a', label: '' },
      { kind: 'audioinput', deviceId: 'b', label: 'Mic' },
      { kind: 'videoinput', deviceId: 'c', label: 'USB cam' },
    ] as MediaDeviceInfo[];
    expect(toOptions(list, 'videoinput', (n) => `Camera ${n}`)).toEqual([
      { deviceId: 'a', label: 'Camera 1' },
      { deviceId: 'c', label: 'USB cam' },
    ]);
  });
});

describe('replaceSenderTrack', () => {
  it('swaps the same-kind sender only, without touching the other', async () => {
    const video = { kind: 'video', replaceTrack: vi.fn(async () => undefined) };
    const audio = { kind: 'audio', replaceTrack: vi.fn(async () => undefined) };
    const pc = { getSenders: () => [{ track: { kind: 'audio' }, replaceTrack: audio.replaceTrack }, { track: { kind: 'video' }, replaceTrack: video.replaceTrack }] };
    const track = { kind: 'video' } as MediaStreamTrack;
    expect(await replaceSenderTrack(pc as unknown as RTCPeerConnection, track)).toBe(1);
    expect(video.replaceTrack).toHaveBeenCalledWith(track);
    expect(audio.replaceTrack).not.toHaveBeenCalled();
    expect(await replaceSenderTrack(null, track)).toBe(0);
  });
});
