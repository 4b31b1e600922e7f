namespace MultiTeacher.Cache;

/// <summary>
/// Binary adaptive range coder in the style of LZMA's: 11-bit probabilities that move 1/32 of the
/// way towards each coded bit, carry propagation through a pending byte and run of 0xFF bytes.
/// </summary>
public static class RangeCoder
{
    public const int ProbabilityBits = 11;
    public const ushort Even = 1 << (ProbabilityBits - 1);
    private const int MoveBits = 5;
    private const uint Top = 1u << 24;

    /// <summary>A fresh set of adaptive probabilities, each at one half.</summary>
    public static ushort[] Models(int count)
    {
        var models = new ushort[count];
        Array.Fill(models, Even);
        return models;
    }

    /// <summary>Writes coded bits into a growing byte list.</summary>
    public sealed class Encoder(List<byte> output)
    {
        private ulong _low;
        private uint _range = uint.MaxValue;
        private byte _cache;
        private long _cacheSize = 1;

        public void Bit(ref ushort probability, int bit)
        {
            var bound = (_range >> ProbabilityBits) * probability;
            if (bit == 0) { _range = bound; probability += (ushort)(((1 << ProbabilityBits) - probability) >> MoveBits); }
            else { _low += bound; _range -= bound; probability -= (ushort)(probability >> MoveBits); }
            while (_range < Top) { _range <<= 8; ShiftLow(); }
        }

        /// <summary>Bits of equal probability, most significant first.</summary>
        public void Direct(uint value, int bits)
        {
            for (var i = bits - 1; i >= 0; i--)
            {
                _range >>= 1;
                if (((value >> i) & 1) != 0) _low += _range;
                while (_range < Top) { _range <<= 8; ShiftLow(); }
            }
        }

        /// <summary>A value of <paramref name="bits"/> bits through a binary tree of adaptive probabilities (models[1..2^bits)).</summary>
        public void Tree(ushort[] models, int offset, uint value, int bits)
        {
            var m = 1;
            for (var i = bits - 1; i >= 0; i--)
            {
                var bit = (int)(value >> i) & 1;
                Bit(ref models[offset + m], bit);
                m = (m << 1) | bit;
            }
        }

        public void Flush()
        {
            for (var i = 0; i < 5; i++) ShiftLow();
        }

        private void ShiftLow()
        {
            if ((uint)_low < 0xFF000000u || (_low >> 32) != 0)
            {
                var carry = (byte)(_low >> 32);
                var temp = _cache;
                do { output.Add((byte)(temp + carry)); temp = 0xFF; } while (--_cacheSize != 0);
                _cache = (byte)((uint)_low >> 24);
            }
            _cacheSize++;
            _low = (uint)_low << 8;
        }
    }

    /// <summary>Reads bits coded by <see cref="Encoder"/>; running past the end of the input is an error.</summary>
    public ref struct Decoder
    {
        private ReadOnlySpan<byte> _input;
        private uint _range;
        private uint _code;

        public Decoder(ReadOnlySpan<byte> input)
        {
            if (input.Length < 5 || input[0] != 0) throw new InvalidDataException("range-coded block is damaged");
            _input = input[5..];
            _range = uint.MaxValue;
            _code = (uint)(input[1] << 24 | input[2] << 16 | input[3] << 8 | input[4]);
        }

        /// <summary>Input bytes not yet consumed (the coder reads 4 bytes ahead, which the flush wrote).</summary>
        public readonly ReadOnlySpan<byte> Remaining => _input;

        public int Bit(ref ushort probability)
        {
            var bound = (_range >> ProbabilityBits) * probability;
            int bit;
            if (_code < bound) { _range = bound; probability += (ushort)(((1 << ProbabilityBits) - probability) >> MoveBits); bit = 0; }
            else { _code -= bound; _range -= bound; probability -= (ushort)(probability >> MoveBits); bit = 1; }
            Normalize();
            return bit;
        }

        public uint Direct(int bits)
        {
            uint value = 0;
            for (var i = 0; i < bits; i++)
            {
                _range >>= 1;
                var bit = _code >= _range ? 1u : 0u;
                if (bit != 0) _code -= _range;
                value = (value << 1) | bit;
                Normalize();
            }
            return value;
        }

        public uint Tree(ushort[] models, int offset, int bits)
        {
            var m = 1;
            for (var i = 0; i < bits; i++) m = (m << 1) | Bit(ref models[offset + m]);
            return (uint)(m - (1 << bits));
        }

        private void Normalize()
        {
            if (_range >= Top) return;
            if (_input.IsEmpty) throw new InvalidDataException("range-coded block ends early");
            _range <<= 8;
            _code = (_code << 8) | _input[0];
            _input = _input[1..];
        }
    }
}
